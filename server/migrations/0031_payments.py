from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('crm', '0030_attachments')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Payment',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('order', fields.ForeignKeyField('crm.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='payments', on_delete=OnDelete.CASCADE)),
                ('installation', fields.ForeignKeyField('crm.PluginInstallation', source_field='installation_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('provider', fields.CharField(max_length=64)),
                ('amount', fields.DecimalField(max_digits=14, decimal_places=2)),
                ('currency', fields.CharField(max_length=3)),
                ('status', fields.CharField(default='created', max_length=24)),
                ('provider_payment_id', fields.CharField(null=True, max_length=128)),
                ('provider_status', fields.CharField(default='', max_length=32)),
                ('fee', fields.DecimalField(null=True, max_digits=14, decimal_places=2)),
                ('refunded_amount', fields.DecimalField(default=0, max_digits=14, decimal_places=2)),
                ('checkout_url', fields.CharField(null=True, max_length=2000)),
                ('error', fields.CharField(default='', max_length=500)),
                ('paid_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('provider_changed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_by', fields.ForeignKeyField('crm.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('version', fields.IntField(default=1)),
            ],
            options={'table': 'payment', 'app': 'crm', 'indexes': [Index(fields=['order_id', 'created_at']), Index(fields=['installation_id', 'provider_payment_id'])], 'pk_attr': 'id', 'table_description': 'One attempt to take ``amount`` for an order through a payment plugin installation.'},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='PaymentRefund',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('payment', fields.ForeignKeyField('crm.Payment', source_field='payment_id', db_constraint=True, to_field='id', related_name='refunds', on_delete=OnDelete.CASCADE)),
                ('amount', fields.DecimalField(max_digits=14, decimal_places=2)),
                ('status', fields.CharField(default='pending', max_length=16)),
                ('provider_refund_id', fields.CharField(default='', max_length=128)),
                ('error', fields.CharField(default='', max_length=500)),
                ('actor', fields.ForeignKeyField('crm.User', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'payment_refund', 'app': 'crm', 'indexes': [Index(fields=['payment_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'Money given back from a paid payment: all of it or a part.'},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='PaymentSettings',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('paid_order_status', fields.CharField(null=True, max_length=48)),
            ],
            options={'table': 'payment_settings', 'app': 'crm', 'unique_together': (('organization',),), 'pk_attr': 'id', 'table_description': "The organization's rule: the order status a fully paid order moves to (None: stay)."},
            bases=['TenantModel'],
        ),
    ]
