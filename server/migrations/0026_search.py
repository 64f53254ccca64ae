from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

# The engines' own text indexes over search_term.value (server/search/models.py):
# PostgreSQL: pg_trgm trigram GIN, used by LIKE '%...%' and LIKE '...%';
# SQLite: an FTS5 table with the trigram tokenizer (SQLite 3.34+), an external-content table
# over search_term kept equal to it by triggers.
POSTGRES_SQL = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    'CREATE INDEX IF NOT EXISTS "search_term_value_trgm" ON "search_term" USING gin ("value" gin_trgm_ops)',
)
SQLITE_SQL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_term_fts USING fts5("
    "value, content='search_term', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS search_term_fts_insert AFTER INSERT ON search_term BEGIN "
    "INSERT INTO search_term_fts(rowid, value) VALUES (new.id, new.value); END",
    "CREATE TRIGGER IF NOT EXISTS search_term_fts_delete AFTER DELETE ON search_term BEGIN "
    "INSERT INTO search_term_fts(search_term_fts, rowid, value) VALUES ('delete', old.id, old.value); END",
    "CREATE TRIGGER IF NOT EXISTS search_term_fts_update AFTER UPDATE ON search_term BEGIN "
    "INSERT INTO search_term_fts(search_term_fts, rowid, value) VALUES ('delete', old.id, old.value); "
    "INSERT INTO search_term_fts(rowid, value) VALUES (new.id, new.value); END",
)
DROP_SQL = (
    'DROP INDEX IF EXISTS "search_term_value_trgm"',
    "DROP TABLE IF EXISTS search_term_fts",
)


async def create_text_indexes(apps, schema_editor) -> None:
    postgres = schema_editor.client.capabilities.dialect == "postgres"
    for sql in POSTGRES_SQL if postgres else SQLITE_SQL:
        await schema_editor.client.execute_script(sql)
    # Records written before this migration are indexed by migration 0034 (which adds a column
    # the index code writes now).


async def drop_text_indexes(apps, schema_editor) -> None:
    postgres = schema_editor.client.capabilities.dialect == "postgres"
    for sql in DROP_SQL[:1] if postgres else DROP_SQL[1:]:
        await schema_editor.client.execute_script(sql)


class Migration(migrations.Migration):
    dependencies = [('crm', '0025_duplicates_bulk')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SearchTerm',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=8)),
                ('object_id', fields.UUIDField()),
                ('field', fields.CharField(max_length=16)),
                ('value', fields.CharField(max_length=300)),
            ],
            options={'table': 'search_term', 'app': 'crm', 'indexes': [Index(fields=['organization_id', 'kind', 'object_id']), Index(fields=['organization_id', 'value'])], 'pk_attr': 'id', 'table_description': 'One searchable value of one record.'},
            bases=['Model'],
        ),
        ops.RunPython(create_text_indexes, drop_text_indexes),
    ]
