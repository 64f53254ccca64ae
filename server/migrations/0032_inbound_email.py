from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('crm', '0031_payments')]

    initial = False

    operations = [
        ops.CreateModel(
            name='EmailThreadMessage',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('conversation', fields.ForeignKeyField('crm.Conversation', source_field='conversation_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('conversation_message', fields.ForeignKeyField('crm.ConversationMessage', source_field='conversation_message_id', unique=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('direction', fields.CharField(max_length=3)),
                ('message_id_header', fields.CharField(default='', max_length=255)),
                ('subject', fields.CharField(default='', max_length=300)),
                ('thread_ids', fields.TextField(default='', unique=False)),
                ('automated', fields.BooleanField(default=False)),
                ('attachments', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={'table': 'email_thread_message', 'app': 'crm', 'indexes': [Index(fields=['organization_id', 'message_id_header']), Index(fields=['conversation_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'The e-mail side of one conversation message: its Message-ID, subject and References, so'},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='InboundMailbox',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('installation', fields.ForeignKeyField('crm.PluginInstallation', source_field='installation_id', unique=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('issued_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'email_inbound_mailbox', 'app': 'crm', 'pk_attr': 'id', 'table_description': "The CRM's own address for one e-mail plugin installation, ``in+<token>@<MAIL_IN_DOMAIN>``:"},
            bases=['TenantModel'],
        ),
    ]
