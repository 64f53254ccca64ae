from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('crm', '0026_search')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Conversation',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('channel', fields.CharField(max_length=16)),
                ('installation', fields.ForeignKeyField('crm.PluginInstallation', source_field='installation_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('address', fields.CharField(max_length=128)),
                ('display_name', fields.CharField(default='', max_length=200)),
                ('phone', fields.CharField(null=True, max_length=20)),
                ('account', fields.ForeignKeyField('crm.Account', source_field='account_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('status', fields.CharField(default='open', db_index=True, max_length=8)),
                ('snoozed_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('assignee', fields.ForeignKeyField('crm.User', source_field='assignee_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('unread_count', fields.IntField(default=0)),
                ('last_message_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_message_text', fields.CharField(default='', max_length=200)),
                ('first_response_due_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('first_response_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('ticket', fields.ForeignKeyField('crm.Ticket', source_field='ticket_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('deal', fields.ForeignKeyField('crm.Deal', source_field='deal_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('version', fields.IntField(default=1)),
            ],
            options={'table': 'conversation', 'app': 'crm', 'unique_together': (('organization', 'channel', 'installation', 'address'),), 'indexes': [Index(fields=['organization_id', 'last_message_at']), Index(fields=['account_id', 'channel'])], 'pk_attr': 'id', 'table_description': 'A customer on one channel: a Telegram chat, a Viber user, an e-mail address...'},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='ConversationMessage',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('conversation', fields.ForeignKeyField('crm.Conversation', source_field='conversation_id', db_constraint=True, to_field='id', related_name='messages', on_delete=OnDelete.CASCADE)),
                ('direction', fields.CharField(max_length=3)),
                ('kind', fields.CharField(default='text', max_length=16)),
                ('text', fields.TextField(default='', unique=False)),
                ('attachments', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('state', fields.CharField(max_length=10)),
                ('provider_message_id', fields.CharField(null=True, max_length=64)),
                ('author', fields.ForeignKeyField('crm.User', source_field='author_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('ask_phone', fields.BooleanField(default=False)),
                ('error', fields.TextField(default='', unique=False)),
                ('attempts', fields.IntField(default=0)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('read_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'conversation_message', 'app': 'crm', 'unique_together': (('conversation', 'direction', 'provider_message_id'),), 'indexes': [Index(fields=['conversation_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'One message of a conversation, from the customer (``in``) or an agent (``out``).'},
            bases=['TenantModel'],
        ),
    ]
