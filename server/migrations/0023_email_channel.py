from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

# SQLite cannot widen a column in place: Tortoise rebuilds the notification table for the
# AlterField below and the copy loses its unique constraints and indexes (as in 0010). Put them
# back with the names they had; PostgreSQL alters the column in place and keeps them.
SQLITE_NOTIFICATION_INDEXES = (
    'CREATE UNIQUE INDEX IF NOT EXISTS "uid_notificatio_survey__dbbfc4" ON "notification" ("survey_id", "position")',
    'CREATE UNIQUE INDEX IF NOT EXISTS "uid_notificatio_order_i_8969ab" ON "notification" ("order_id", "source_event_id", "position")',
    'CREATE INDEX IF NOT EXISTS "idx_notificatio_created_0db009" ON "notification" ("created_at")',
    'CREATE INDEX IF NOT EXISTS "idx_notificatio_state_8da97a" ON "notification" ("state")',
    'CREATE INDEX IF NOT EXISTS "idx_notificatio_provide_7556dd" ON "notification" ("provider_message_id")',
)


async def restore_sqlite_indexes(apps, schema_editor) -> None:
    if schema_editor.client.capabilities.dialect != "sqlite":
        return
    for sql in SQLITE_NOTIFICATION_INDEXES:
        await schema_editor.client.execute_script(sql)

class Migration(migrations.Migration):
    dependencies = [('crm', '0022_imports')]

    initial = False

    operations = [
        ops.CreateModel(
            name='EmailUnsubscribeLink',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('account', fields.ForeignKeyField('crm.Account', source_field='account_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('notification', fields.ForeignKeyField('crm.Notification', source_field='notification_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('address', fields.CharField(max_length=254)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'email_unsubscribe_link', 'app': 'crm', 'pk_attr': 'id', 'table_description': "The ``List-Unsubscribe`` link of one sent e-mail (``/e/<token>``). Only the token's"},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='UndeliverableEmail',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('address', fields.CharField(max_length=254)),
                ('status', fields.CharField(default='', max_length=16)),
                ('diagnostic', fields.CharField(default='', max_length=500)),
                ('source', fields.CharField(max_length=8)),
            ],
            options={'table': 'undeliverable_email', 'app': 'crm', 'unique_together': (('organization', 'address'),), 'pk_attr': 'id', 'table_description': 'An address a mail server refused permanently (a hard bounce: 5.x.x at RCPT or DATA, or a'},
            bases=['TenantModel'],
        ),
        ops.AlterField(
            model_name='Notification',
            name='recipient',
            field=fields.CharField(default='', max_length=254),
        ),
        ops.RunPython(restore_sqlite_indexes, ops.RunPython.noop),
    ]
