from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('crm', '0003_idempotency_request_hash')]

    initial = False

    operations = [
        ops.CreateModel(
            name='MarketplaceOrderLink',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('order', fields.OneToOneField('crm.Order', source_field='order_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('installation', fields.ForeignKeyField('crm.PluginInstallation', source_field='installation_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('external_id', fields.CharField(max_length=128)),
                ('external_status', fields.CharField(max_length=64)),
                ('external_changed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'marketplace_order_link', 'app': 'crm', 'unique_together': (('installation', 'external_id'),), 'pk_attr': 'id', 'table_description': 'An order imported from a marketplace installation and the marketplace status last seen'},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='MarketplacePush',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('order', fields.ForeignKeyField('crm.Order', source_field='order_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('installation', fields.ForeignKeyField('crm.PluginInstallation', source_field='installation_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('plugin', fields.CharField(max_length=64)),
                ('event_id', fields.UUIDField()),
                ('crm_status', fields.CharField(max_length=48)),
                ('marketplace_status', fields.CharField(null=True, max_length=64)),
                ('outcome', fields.CharField(default='pending', max_length=16)),
                ('error', fields.TextField(null=True, unique=False)),
                ('error_code', fields.CharField(null=True, max_length=64)),
                ('attempts', fields.IntField(default=0)),
                ('last_attempt_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'marketplace_push', 'app': 'crm', 'unique_together': (('order', 'event_id'),), 'indexes': [Index(fields=['organization_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'One status change of an order told to its marketplace, unique per order and outbox'},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='MarketplaceSyncState',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('installation', fields.OneToOneField('crm.PluginInstallation', source_field='installation_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('cursor', fields.TextField(null=True, unique=False)),
                ('locked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_result', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={'table': 'marketplace_sync_state', 'app': 'crm', 'pk_attr': 'id', 'table_description': 'Where the order sync of one marketplace installation stands.'},
            bases=['TenantModel'],
        ),
    ]
