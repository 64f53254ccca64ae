from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('crm', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PluginInstallation',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('plugin', fields.CharField(max_length=64)),
                ('label', fields.CharField(default='', max_length=64)),
                ('enabled', fields.BooleanField(default=True)),
                ('config', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('secrets', fields.TextField(default='', unique=False)),
                ('secret_fields', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('webhook_token_hash', fields.CharField(unique=True, max_length=64)),
                ('webhook_token_issued_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('allowed_ips', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('version', fields.IntField(default=1)),
            ],
            options={'table': 'plugin_installation', 'app': 'crm', 'unique_together': (('organization', 'plugin', 'label'),), 'pk_attr': 'id', 'table_description': 'A plugin an organization installed: its settings, encrypted secrets and webhook token.'},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='WebhookDelivery',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('installation', fields.ForeignKeyField('crm.PluginInstallation', source_field='installation_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('dedupe_key', fields.CharField(max_length=200)),
                ('path', fields.CharField(default='', max_length=200)),
                ('event_count', fields.IntField(default=0)),
                ('result', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('attempts', fields.IntField(default=1)),
                ('last_received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'plugin_webhook_delivery', 'app': 'crm', 'unique_together': (('installation', 'dedupe_key'),), 'indexes': [Index(fields=['organization_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'One inbound webhook delivery, unique per installation and dedupe key.'},
            bases=['TenantModel'],
        ),
        ops.AddIndex(
            model_name='Deal',
            index=Index(fields=['organization_id', 'created_at']),
        ),
    ]
