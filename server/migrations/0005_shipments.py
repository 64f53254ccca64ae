from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('crm', '0004_marketplace')]

    initial = False

    operations = [
        ops.CreateModel(
            name='DeliveryStatusRule',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('carrier', fields.CharField(max_length=64)),
                ('carrier_status', fields.CharField(max_length=16)),
                ('order_status', fields.CharField(null=True, max_length=48)),
            ],
            options={'table': 'delivery_status_rule', 'app': 'crm', 'unique_together': (('organization', 'carrier', 'carrier_status'),), 'pk_attr': 'id', 'table_description': 'An organization override of which order status a carrier status code leads to'},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='Shipment',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('order', fields.ForeignKeyField('crm.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='shipments', on_delete=OnDelete.CASCADE)),
                ('installation', fields.ForeignKeyField('crm.PluginInstallation', source_field='installation_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('carrier', fields.CharField(max_length=64)),
                ('waybill_number', fields.CharField(max_length=64)),
                ('provider_ref', fields.CharField(null=True, max_length=64)),
                ('carrier_status', fields.CharField(null=True, max_length=16)),
                ('carrier_status_text', fields.CharField(default='', max_length=500)),
                ('status', fields.CharField(default='created', max_length=24)),
                ('status_changed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('estimated_delivery', fields.DateField(null=True)),
                ('cost', fields.DecimalField(null=True, max_digits=14, decimal_places=2)),
                ('currency', fields.CharField(null=True, max_length=3)),
                ('last_tracked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('tracking_error', fields.TextField(null=True, unique=False)),
                ('rule_applied_for', fields.CharField(null=True, max_length=16)),
                ('closed', fields.BooleanField(default=False)),
                ('cancelled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('version', fields.IntField(default=1)),
            ],
            options={'table': 'shipment', 'app': 'crm', 'unique_together': (('organization', 'carrier', 'waybill_number'),), 'indexes': [Index(fields=['order_id', 'created_at']), Index(fields=['installation_id', 'closed'])], 'pk_attr': 'id', 'table_description': 'A carrier waybill for an order, with the last status the carrier reported'},
            bases=['TenantModel'],
        ),
    ]
