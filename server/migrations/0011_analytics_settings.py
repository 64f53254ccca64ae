from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('crm', '0010_surveys')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AcquisitionCost',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('source', fields.CharField(max_length=64)),
                ('month', fields.DateField()),
                ('currency', fields.CharField(max_length=3)),
                ('amount', fields.DecimalField(max_digits=14, decimal_places=2)),
            ],
            options={'table': 'acquisition_cost', 'app': 'crm', 'unique_together': (('organization', 'source', 'month', 'currency'),), 'pk_attr': 'id', 'table_description': 'Money spent to win customers from one acquisition source (Account.source) in one month.'},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='AnalyticsSettings',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('lost_after_days', fields.IntField(default=365)),
                ('ltv_formula', fields.CharField(default='arpu_lifetime', max_length=32)),
                ('gross_margin_percent', fields.DecimalField(default=100, max_digits=5, decimal_places=2)),
                ('lifetime_years', fields.DecimalField(default=3, max_digits=6, decimal_places=2)),
                ('discount_rate_percent', fields.DecimalField(default=10, max_digits=5, decimal_places=2)),
                ('npv_years', fields.IntField(default=3)),
            ],
            options={'table': 'analytics_settings', 'app': 'crm', 'unique_together': (('organization',),), 'pk_attr': 'id', 'table_description': 'One row per organization (no row: the defaults below).'},
            bases=['TenantModel'],
        ),
    ]
