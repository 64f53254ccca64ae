from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('crm', '0014_api_keys')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OAuthAuthorizationCode',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('code_hash', fields.CharField(unique=True, max_length=64)),
                ('client', fields.ForeignKeyField('crm.OAuthClient', source_field='client_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('crm.User', source_field='user_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('scopes', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('redirect_uri', fields.CharField(max_length=2000)),
                ('code_challenge', fields.CharField(max_length=128)),
                ('family', fields.UUIDField()),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'oauth_authorization_code', 'app': 'crm', 'pk_attr': 'id', 'table_description': 'A code from the consent page (its SHA-256): single use, one minute, bound to the'},
            bases=['BaseModel'],
        ),
        ops.CreateModel(
            name='OAuthRefreshToken',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('client', fields.ForeignKeyField('crm.OAuthClient', source_field='client_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('crm.User', source_field='user_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('scopes', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('family', fields.UUIDField(db_index=True)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'oauth_refresh_token', 'app': 'crm', 'pk_attr': 'id', 'table_description': 'A refresh token (its SHA-256). Each use rotates it, and a used one presented again means it'},
            bases=['BaseModel'],
        ),
        ops.AddField(
            model_name='OAuthAccessToken',
            name='family',
            field=fields.UUIDField(null=True, db_index=True),
        ),
        ops.AddField(
            model_name='OAuthAccessToken',
            name='user',
            field=fields.ForeignKeyField('crm.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='OAuthClient',
            name='redirect_uris',
            field=fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads),
        ),
    ]
