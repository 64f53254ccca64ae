from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('crm', '0027_conversations')]

    initial = False

    operations = [
        ops.CreateModel(
            name='WebChatWidget',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('key', fields.CharField(unique=True, max_length=32)),
                ('enabled', fields.BooleanField(default=False)),
                ('title', fields.CharField(default='', max_length=120)),
                ('greeting', fields.CharField(default='', max_length=500)),
                ('allowed_origins', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('version', fields.IntField(default=1)),
            ],
            options={'table': 'webchat_widget', 'app': 'crm', 'unique_together': (('organization',),), 'pk_attr': 'id', 'table_description': "One per organization. Its key is public, in the page's address, and grants nothing but"},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='WebChatVisitor',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('widget', fields.ForeignKeyField('crm.WebChatWidget', source_field='widget_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('name', fields.CharField(default='', max_length=120)),
                ('conversation', fields.ForeignKeyField('crm.Conversation', source_field='conversation_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'webchat_visitor', 'app': 'crm', 'pk_attr': 'id', 'table_description': 'A browser that started a chat: it proves who it is with a random token, of which only the'},
            bases=['BaseModel'],
        ),
    ]
