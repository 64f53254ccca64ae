from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [("crm", "0037_cash_on_delivery")]

    initial = False

    operations = [
        ops.CreateModel(
            name='CatalogSettings',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('allow_backorders', fields.BooleanField(default=False)),
            ],
            options={'table': 'catalog_settings', 'app': 'crm', 'unique_together': (('organization',),), 'pk_attr': 'id', 'table_description': "The organization's stock rule: may an order be confirmed with too little stock?"},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='ProductCategory',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('parent', fields.ForeignKeyField('crm.ProductCategory', source_field='parent_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('position', fields.IntField(default=0)),
                ('version', fields.IntField(default=1)),
            ],
            options={'table': 'product_category', 'app': 'crm', 'indexes': [Index(fields=['organization_id', 'parent_id'])], 'pk_attr': 'id', 'table_description': 'A category, in a tree by its parent (null: a top-level category).'},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='Product',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('title', fields.CharField(max_length=300)),
                ('description', fields.TextField(default='', unique=False)),
                ('category', fields.ForeignKeyField('crm.ProductCategory', source_field='category_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('photos', fields.JSONField(default=list, db_default=[], encoder=JSON_DUMPS, decoder=loads)),
                ('is_active', fields.BooleanField(default=True)),
                ('version', fields.IntField(default=1)),
            ],
            options={'table': 'product', 'app': 'crm', 'indexes': [Index(fields=['organization_id', 'created_at']), Index(fields=['organization_id', 'updated_at'])], 'pk_attr': 'id', 'table_description': 'What the shop sells, as people name it, sold as one or more variants.'},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='ProductVariant',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('product', fields.ForeignKeyField('crm.Product', source_field='product_id', db_constraint=True, to_field='id', related_name='variants', on_delete=OnDelete.CASCADE)),
                ('sku', fields.CharField(max_length=64)),
                ('barcode', fields.CharField(null=True, db_index=True, max_length=64)),
                ('title', fields.CharField(max_length=300)),
                ('price', fields.DecimalField(max_digits=14, decimal_places=2)),
                ('currency', fields.CharField(max_length=3)),
                ('cost', fields.DecimalField(null=True, max_digits=14, decimal_places=2)),
                ('weight_grams', fields.IntField(null=True)),
                ('length_mm', fields.IntField(null=True)),
                ('width_mm', fields.IntField(null=True)),
                ('height_mm', fields.IntField(null=True)),
                ('photos', fields.JSONField(default=list, db_default=[], encoder=JSON_DUMPS, decoder=loads)),
                ('is_active', fields.BooleanField(default=True)),
                ('low_stock_threshold', fields.DecimalField(null=True, max_digits=12, decimal_places=3)),
                ('position', fields.IntField(default=0)),
                ('version', fields.IntField(default=1)),
            ],
            options={'table': 'product_variant', 'app': 'crm', 'unique_together': (('organization', 'sku'),), 'indexes': [Index(fields=['product_id', 'position']), Index(fields=['organization_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'A sellable unit: one SKU (unique per organization), its price, cost, size and stock.'},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='Warehouse',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('code', fields.CharField(max_length=32)),
                ('position', fields.IntField(default=0)),
                ('is_active', fields.BooleanField(default=True)),
                ('version', fields.IntField(default=1)),
            ],
            options={'table': 'warehouse', 'app': 'crm', 'unique_together': (('organization', 'code'),), 'pk_attr': 'id', 'table_description': 'A place stock is kept. Orders reserve from the first active warehouse (by position) that'},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='StockLevel',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('variant', fields.ForeignKeyField('crm.ProductVariant', source_field='variant_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('warehouse', fields.ForeignKeyField('crm.Warehouse', source_field='warehouse_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('on_hand', fields.DecimalField(default=0, max_digits=14, decimal_places=3)),
                ('reserved', fields.DecimalField(default=0, max_digits=14, decimal_places=3)),
            ],
            options={'table': 'stock_level', 'app': 'crm', 'unique_together': (('variant', 'warehouse'),), 'pk_attr': 'id', 'table_description': "A variant's stock in one warehouse. available = on_hand − reserved (not stored)."},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='StockMovement',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('variant', fields.ForeignKeyField('crm.ProductVariant', source_field='variant_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('warehouse', fields.ForeignKeyField('crm.Warehouse', source_field='warehouse_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=16)),
                ('on_hand_delta', fields.DecimalField(default=0, max_digits=14, decimal_places=3)),
                ('reserved_delta', fields.DecimalField(default=0, max_digits=14, decimal_places=3)),
                ('on_hand_after', fields.DecimalField(max_digits=14, decimal_places=3)),
                ('reserved_after', fields.DecimalField(max_digits=14, decimal_places=3)),
                ('reason', fields.CharField(default='', max_length=500)),
                ('order', fields.ForeignKeyField('crm.Order', source_field='order_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('actor_kind', fields.CharField(default='user', max_length=16)),
                ('actor_id', fields.CharField(null=True, max_length=64)),
            ],
            options={'table': 'stock_movement', 'app': 'crm', 'indexes': [Index(fields=['variant_id', 'created_at']), Index(fields=['organization_id', 'created_at']), Index(fields=['order_id', 'created_at'])], 'pk_attr': 'id', 'table_description': "One change of a stock level: an adjustment (receive, write_off, count) or an order's"},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='StockReservation',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('order', fields.ForeignKeyField('crm.Order', source_field='order_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('variant', fields.ForeignKeyField('crm.ProductVariant', source_field='variant_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('warehouse', fields.ForeignKeyField('crm.Warehouse', source_field='warehouse_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('quantity', fields.DecimalField(max_digits=14, decimal_places=3)),
                ('state', fields.CharField(default='active', max_length=16)),
            ],
            options={'table': 'stock_reservation', 'app': 'crm', 'indexes': [Index(fields=['order_id', 'state']), Index(fields=['variant_id', 'state'])], 'pk_attr': 'id', 'table_description': 'What an order holds of a variant in a warehouse: active (reserved), then'},
            bases=['TenantModel'],
        ),
        ops.AddField(
            model_name='OrderItem',
            name='unit_cost',
            field=fields.DecimalField(null=True, max_digits=14, decimal_places=2),
        ),
        ops.AddField(
            model_name='OrderItem',
            name='variant',
            field=fields.ForeignKeyField('crm.ProductVariant', source_field='variant_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL),
        ),
    ]
