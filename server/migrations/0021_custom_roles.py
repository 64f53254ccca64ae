from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('crm', '0020_webhook_endpoint_include_pii')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CustomRole',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=32)),
                ('description', fields.CharField(default='', max_length=500)),
                ('permissions', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('row_scope', fields.CharField(default='all', max_length=8)),
                ('hidden_fields', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={'table': 'custom_role', 'app': 'crm', 'unique_together': (('organization', 'name'),), 'pk_attr': 'id', 'table_description': 'A role an owner or admin made for this organization from the permission catalogue'},
            bases=['TenantModel'],
        ),
    ]
