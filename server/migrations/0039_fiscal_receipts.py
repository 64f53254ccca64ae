from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('crm', '0038_catalog')]

    initial = False

    operations = [
        ops.CreateModel(
            name='FiscalReceipt',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('payment', fields.ForeignKeyField('crm.Payment', source_field='payment_id', db_constraint=True, to_field='id', related_name='fiscal_receipts', on_delete=OnDelete.CASCADE)),
                ('refund', fields.ForeignKeyField('crm.PaymentRefund', source_field='refund_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('sale', fields.ForeignKeyField('crm.FiscalReceipt', source_field='sale_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('installation', fields.ForeignKeyField('crm.PluginInstallation', source_field='installation_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('key', fields.CharField(unique=True, max_length=64)),
                ('provider', fields.CharField(max_length=64)),
                ('kind', fields.CharField(max_length=8)),
                ('status', fields.CharField(default='pending', max_length=16)),
                ('payment_type', fields.CharField(max_length=16)),
                ('amount', fields.DecimalField(max_digits=14, decimal_places=2)),
                ('currency', fields.CharField(max_length=3)),
                ('provider_receipt_id', fields.CharField(default='', max_length=64)),
                ('fiscal_code', fields.CharField(default='', max_length=64)),
                ('fiscal_date', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('url', fields.CharField(default='', max_length=500)),
                ('error', fields.CharField(default='', max_length=500)),
                ('tries', fields.IntField(default=0)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('claimed_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'fiscal_receipt', 'app': 'crm', 'indexes': [Index(fields=['payment_id', 'created_at']), Index(fields=['status', 'created_at'])], 'pk_attr': 'id', 'table_description': 'A sale or return receipt for a payment. Its ``id`` is the receipt id the provider gets'},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='FiscalShiftClose',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('installation', fields.ForeignKeyField('crm.PluginInstallation', source_field='installation_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('day', fields.DateField()),
                ('status', fields.CharField(max_length=16)),
                ('shift_id', fields.CharField(default='', max_length=64)),
                ('message', fields.CharField(default='', max_length=500)),
            ],
            options={'table': 'fiscal_shift_close', 'app': 'crm', 'unique_together': (('installation', 'day'),), 'pk_attr': 'id', 'table_description': "The daily close of a fiscal installation's shift, on the organization's local ``day``."},
            bases=['TenantModel'],
        ),
    ]
