from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('crm', '0006_jobs')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ChannelConsent',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('account', fields.ForeignKeyField('crm.Account', source_field='account_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('channel', fields.CharField(max_length=16)),
                ('opted_in', fields.BooleanField(default=True)),
            ],
            options={'table': 'channel_consent', 'app': 'crm', 'unique_together': (('account', 'channel'),), 'pk_attr': 'id', 'table_description': 'A customer opting out of (or back into) a channel. No row: opted in to order messages.'},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='Notification',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('order', fields.ForeignKeyField('crm.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE)),
                ('account', fields.ForeignKeyField('crm.Account', source_field='account_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('source_event_id', fields.UUIDField()),
                ('trigger', fields.CharField(max_length=32)),
                ('position', fields.IntField(default=0)),
                ('channel', fields.CharField(max_length=16)),
                ('urgent', fields.BooleanField(default=False)),
                ('recipient', fields.CharField(default='', max_length=20)),
                ('locale', fields.CharField(default='uk', max_length=8)),
                ('text', fields.TextField(default='', unique=False)),
                ('state', fields.CharField(default='queued', db_index=True, max_length=12)),
                ('reason', fields.TextField(default='', unique=False)),
                ('installation', fields.ForeignKeyField('crm.PluginInstallation', source_field='installation_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('provider_message_id', fields.CharField(null=True, db_index=True, max_length=128)),
                ('attempts', fields.IntField(default=0)),
                ('scheduled_for', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'notification', 'app': 'crm', 'unique_together': (('order', 'source_event_id', 'position'),), 'pk_attr': 'id', 'table_description': 'One message to one customer on one channel, from queued to delivered or failed.'},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='NotificationRule',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('trigger', fields.CharField(max_length=32)),
                ('channels', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('urgent', fields.BooleanField(default=False)),
                ('enabled', fields.BooleanField(default=True)),
            ],
            options={'table': 'notification_rule', 'app': 'crm', 'unique_together': (('organization', 'trigger'),), 'pk_attr': 'id', 'table_description': 'Which channels, in which order, tell a customer that an order reached a status.'},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='NotificationSettings',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('quiet_start', fields.CharField(default='21:00', max_length=5)),
                ('quiet_end', fields.CharField(default='09:00', max_length=5)),
                ('send_delay_seconds', fields.IntField(default=60)),
                ('support_phone', fields.CharField(default='', max_length=20)),
                ('support_email', fields.CharField(default='', max_length=200)),
            ],
            options={'table': 'notification_settings', 'app': 'crm', 'unique_together': (('organization',),), 'pk_attr': 'id', 'table_description': 'Quiet hours in the organization timezone, the debounce delay and the support contacts.'},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='NotificationTemplate',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('trigger', fields.CharField(max_length=32)),
                ('channel', fields.CharField(max_length=16)),
                ('locale', fields.CharField(max_length=8)),
                ('body', fields.TextField(unique=False)),
            ],
            options={'table': 'notification_template', 'app': 'crm', 'unique_together': (('organization', 'trigger', 'channel', 'locale'),), 'pk_attr': 'id', 'table_description': 'The text of one trigger on one channel in one language (a sandboxed Jinja template).'},
            bases=['TenantModel'],
        ),
    ]
