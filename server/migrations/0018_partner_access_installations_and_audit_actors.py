from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('crm', '0017_click_tracking')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OAuthInstallation',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('client', fields.ForeignKeyField('crm.OAuthClient', source_field='client_id', db_constraint=True, to_field='id', related_name='installations', on_delete=OnDelete.CASCADE)),
                ('scopes', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('installed_by', fields.ForeignKeyField('crm.User', source_field='installed_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'oauth_installation', 'app': 'crm', 'unique_together': (('client', 'organization'),), 'pk_attr': 'id', 'table_description': 'An installable app (``OAuthClient.installable``) let into this organization by one of its'},
            bases=['TenantModel'],
        ),
        ops.AddField(
            model_name='AuditEntry',
            name='actor_via',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='OAuthAccessToken',
            name='installation',
            field=fields.ForeignKeyField('crm.OAuthInstallation', source_field='installation_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='OAuthAuthorizationCode',
            name='install_into',
            field=fields.ForeignKeyField('crm.Organization', source_field='install_into_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='OAuthClient',
            name='installable',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='OAuthRefreshToken',
            name='granted_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
