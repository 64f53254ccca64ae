from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('crm', '0011_analytics_settings')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CustomerFigures',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('account', fields.OneToOneField('crm.Account', source_field='account_id', db_constraint=True, to_field='id', related_name='figures', on_delete=OnDelete.CASCADE)),
                ('first_order_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_order_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('order_count', fields.IntField(default=0)),
                ('revenue_cents', fields.BigIntField(default=0)),
                ('by_currency', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('rfm_recency', fields.SmallIntField(null=True)),
                ('rfm_frequency', fields.SmallIntField(null=True)),
                ('rfm_monetary', fields.SmallIntField(null=True)),
                ('rfm_group', fields.CharField(null=True, max_length=24)),
                ('rfm_computed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'customer_figures', 'app': 'crm', 'indexes': [Index(fields=['organization_id', 'order_count']), Index(fields=['organization_id', 'last_order_at']), Index(fields=['organization_id', 'revenue_cents']), Index(fields=['organization_id', 'rfm_group'])], 'pk_attr': 'id', 'table_description': 'One row per account: its order history summed up, so lists, filters and segments read'},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='RfmSettings',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('rfm_window_days', fields.IntField(default=365)),
                ('rfm_nightly_on', fields.DateField(null=True)),
                ('rfm_computed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'rfm_settings', 'app': 'crm', 'unique_together': (('organization',),), 'pk_attr': 'id', 'table_description': "An organization's RFM settings (the window), and the day its nightly RFM run last happened."},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='Segment',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=200)),
                ('description', fields.TextField(default='', unique=False)),
                ('rules', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('created_by', fields.ForeignKeyField('crm.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('version', fields.IntField(default=1)),
            ],
            options={'table': 'segment', 'app': 'crm', 'unique_together': (('organization', 'name'),), 'pk_attr': 'id', 'table_description': 'Its members are computed when asked (a live list), never stored.'},
            bases=['TenantModel'],
        ),
    ]
