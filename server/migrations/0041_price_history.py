from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('crm', '0040_shipment_registered')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PriceChange',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('variant', fields.ForeignKeyField('crm.ProductVariant', source_field='variant_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('currency', fields.CharField(max_length=3)),
                ('old_price', fields.DecimalField(null=True, max_digits=14, decimal_places=2)),
                ('new_price', fields.DecimalField(null=True, max_digits=14, decimal_places=2)),
                ('old_cost', fields.DecimalField(null=True, max_digits=14, decimal_places=2)),
                ('new_cost', fields.DecimalField(null=True, max_digits=14, decimal_places=2)),
                ('price_changed', fields.BooleanField(default=True)),
                ('changed_by', fields.ForeignKeyField('crm.User', source_field='changed_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('source', fields.CharField(default='manual', max_length=16)),
            ],
            options={'table': 'price_change', 'app': 'crm', 'indexes': [Index(fields=['organization_id', 'variant_id', 'created_at'])], 'pk_attr': 'id', 'table_description': "One change of a variant's price or cost in one currency, kept for its price history."},
            bases=['TenantModel'],
        ),
    ]
