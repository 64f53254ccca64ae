from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index


async def confirm_phone_matches(apps, schema_editor) -> None:
    # A conversation matched by a phone the channel gave (Telegram's own contact) was confirmed.
    await schema_editor.client.execute_script(
        "UPDATE conversation SET account_confirmed = TRUE WHERE phone IS NOT NULL AND account_id IS NOT NULL"
    )


class Migration(migrations.Migration):
    dependencies = [("crm", "0028_webchat")]

    initial = False

    operations = [
        ops.CreateModel(
            name="BotSettings",
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
                ("enabled", fields.BooleanField(default=False)),
                ("order_phrases", fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ("handover_phrases", fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ("template_uk", fields.TextField(default="", unique=False)),
                ("template_en", fields.TextField(default="", unique=False)),
                ("hours_from", fields.CharField(null=True, max_length=5)),
                ("hours_to", fields.CharField(null=True, max_length=5)),
                ("max_orders", fields.IntField(default=3)),
                ("version", fields.IntField(default=1)),
            ],
            options={
                "table": "selfservice_bot_settings",
                "app": "crm",
                "unique_together": (("organization",),),
                "pk_attr": "id",
                "table_description": "One organization's self-service bot: on or off, extra phrases, its answer's template per",
            },
            bases=["TenantModel"],
        ),
        ops.CreateModel(
            name="BotTurn",
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
                (
                    "conversation",
                    fields.ForeignKeyField(
                        "crm.Conversation",
                        source_field="conversation_id",
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "message",
                    fields.ForeignKeyField(
                        "crm.ConversationMessage",
                        source_field="message_id",
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("outcome", fields.CharField(max_length=16)),
                ("language", fields.CharField(default="uk", max_length=2)),
                (
                    "reply",
                    fields.ForeignKeyField(
                        "crm.ConversationMessage",
                        source_field="reply_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
            ],
            options={
                "table": "selfservice_bot_turn",
                "app": "crm",
                "unique_together": (("message",),),
                "indexes": [Index(fields=["conversation_id", "created_at"])],
                "pk_attr": "id",
                "table_description": "The bot's turn on one customer message, at most one (the unique message decides races",
            },
            bases=["TenantModel"],
        ),
        ops.AddField(
            model_name="Conversation",
            name="account_confirmed",
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name="Conversation",
            name="bot_state",
            field=fields.CharField(default="active", db_default="active", max_length=12),
        ),
        ops.AddField(
            model_name="Conversation",
            name="handed_over_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="ConversationMessage",
            name="bot",
            field=fields.BooleanField(default=False, db_default=False),
        ),
        ops.AddField(
            model_name="ConversationMessage",
            name="buttons",
            field=fields.JSONField(default=list, db_default=[], encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.RunPython(confirm_phone_matches, ops.RunPython.noop),
    ]
