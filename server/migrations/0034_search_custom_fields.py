from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index


async def index_records(apps, schema_editor) -> None:
    # Every record's terms, custom-field values included (docs/search.md); also the records of a
    # database that predates migration 0026. A no-op on a new database.
    from server.search.index import reindex_everything

    await reindex_everything(schema_editor.client)


class Migration(migrations.Migration):
    dependencies = [("crm", "0033_custom_fields")]

    initial = False

    operations = [
        ops.AddField(
            model_name="SearchTerm",
            name="definition_id",
            field=fields.UUIDField(null=True),
        ),
        ops.AddIndex(
            model_name="SearchTerm",
            index=Index(fields=["definition_id"]),
        ),
        ops.RunPython(index_records, ops.RunPython.noop),
    ]
