from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('crm', '0029_selfservice_bot')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Attachment',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('object_type', fields.CharField(max_length=32)),
                ('object_id', fields.UUIDField()),
                ('name', fields.CharField(max_length=255)),
                ('content_type', fields.CharField(max_length=128)),
                ('size_bytes', fields.BigIntField()),
                ('sha256', fields.CharField(max_length=64)),
                ('storage', fields.CharField(max_length=8)),
                ('storage_key', fields.CharField(max_length=255)),
                ('uploaded_by', fields.ForeignKeyField('crm.User', source_field='uploaded_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('deleted_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'attachment', 'app': 'crm', 'indexes': [Index(fields=['organization_id', 'object_type', 'object_id'])], 'pk_attr': 'id', 'table_description': 'A file on one object: ``object_type`` (Account, Order, Deal, Ticket, ConversationMessage)'},
            bases=['TenantModel'],
        ),
    ]
