from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("crm", "0034_search_custom_fields")]

    initial = False

    operations = [
        ops.CreateModel(
            name="ChannelRoute",
            fields=[
                ("id", fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ("created_at", fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ("updated_at", fields.DatetimeField(auto_now=True, auto_now_add=False)),
                (
                    "organization",
                    fields.ForeignKeyField(
                        "crm.Organization",
                        source_field="organization_id",
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("channel", fields.CharField(max_length=16)),
                ("trigger", fields.CharField(default="", max_length=32)),
                (
                    "installation",
                    fields.ForeignKeyField(
                        "crm.PluginInstallation",
                        source_field="installation_id",
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
            ],
            options={
                "table": "channel_route",
                "app": "crm",
                "unique_together": (("organization", "trigger", "channel"),),
                "pk_attr": "id",
                "table_description": 'Which messaging installation sends a channel: the organization\'s choice (trigger "") or one',
            },
            bases=["TenantModel"],
        ),
    ]
