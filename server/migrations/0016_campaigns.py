from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('crm', '0015_oauth_authorization_code')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Campaign',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=16)),
                ('enabled', fields.BooleanField(default=False)),
                ('segment', fields.ForeignKeyField('crm.Segment', source_field='segment_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'campaign', 'app': 'crm', 'unique_together': (('organization', 'kind'),), 'pk_attr': 'id', 'table_description': 'One kind of campaign of an organization, on or off, optionally only for a segment.'},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='CampaignSettings',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('marketing_default_opt_in', fields.BooleanField(default=False)),
                ('frequency_cap_days', fields.IntField(default=7)),
                ('conversion_window_days', fields.IntField(default=7)),
            ],
            options={'table': 'campaign_settings', 'app': 'crm', 'unique_together': (('organization',),), 'pk_attr': 'id', 'table_description': 'Marketing rules of an organization. No row: the defaults below.'},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='CampaignStep',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('campaign', fields.ForeignKeyField('crm.Campaign', source_field='campaign_id', db_constraint=True, to_field='id', related_name='steps', on_delete=OnDelete.CASCADE)),
                ('position', fields.IntField()),
                ('enabled', fields.BooleanField(default=True)),
                ('delay', fields.IntField()),
                ('offer_days', fields.IntField(default=0)),
                ('variants', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={'table': 'campaign_step', 'app': 'crm', 'unique_together': (('campaign', 'position'),), 'pk_attr': 'id', 'table_description': 'A message of a campaign. ``delay`` means, for winback: months after the last order, for'},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='CampaignMessage',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('step', fields.ForeignKeyField('crm.CampaignStep', source_field='step_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('account', fields.ForeignKeyField('crm.Account', source_field='account_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('occurrence', fields.CharField(max_length=64)),
                ('variant', fields.CharField(default='A', max_length=16)),
                ('notified', fields.BooleanField(default=False)),
                ('token_hash', fields.CharField(null=True, unique=True, max_length=64)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('opted_out_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'campaign_message', 'app': 'crm', 'unique_together': (('step', 'account', 'occurrence'),), 'pk_attr': 'id', 'table_description': "One step for one customer on one occasion (the last order's date, the birthday's year, the"},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='CustomerMarketing',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('account', fields.OneToOneField('crm.Account', source_field='account_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('birthday', fields.DateField(null=True)),
                ('opted_in', fields.BooleanField(null=True)),
                ('consent_changed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_message_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'customer_marketing', 'app': 'crm', 'pk_attr': 'id', 'table_description': "A customer's marketing side: birthday, marketing consent (separate from the per-channel"},
            bases=['TenantModel'],
        ),
    ]
