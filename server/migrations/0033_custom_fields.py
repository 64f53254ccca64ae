from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('crm', '0032_inbound_email')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CustomFieldDefinition',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('object_type', fields.CharField(max_length=16)),
                ('key', fields.CharField(max_length=64)),
                ('label_uk', fields.CharField(max_length=200)),
                ('label_en', fields.CharField(max_length=200)),
                ('kind', fields.CharField(max_length=16)),
                ('choices', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('required', fields.BooleanField(default=False)),
                ('position', fields.IntField(default=0)),
                ('archived', fields.BooleanField(default=False)),
                ('version', fields.IntField(default=1)),
            ],
            options={'table': 'custom_field_definition', 'app': 'crm', 'unique_together': (('organization', 'object_type', 'key'),), 'pk_attr': 'id', 'table_description': 'One field an organization added to one object type. Archived fields keep their values'},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='CustomFieldValue',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('definition', fields.ForeignKeyField('crm.CustomFieldDefinition', source_field='definition_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('object_type', fields.CharField(max_length=16)),
                ('object_id', fields.UUIDField()),
                ('text_value', fields.TextField(null=True, unique=False)),
                ('text_key', fields.CharField(null=True, max_length=255)),
                ('number_value', fields.DecimalField(null=True, max_digits=20, decimal_places=6)),
                ('number_key', fields.FloatField(null=True)),
                ('currency', fields.CharField(null=True, max_length=3)),
                ('date_value', fields.DateField(null=True)),
                ('bool_value', fields.BooleanField(null=True)),
                ('position', fields.IntField(default=0)),
            ],
            options={'table': 'custom_field_value', 'app': 'crm', 'indexes': [Index(fields=['object_id', 'definition_id']), Index(fields=['definition_id', 'text_key']), Index(fields=['definition_id', 'number_key'])], 'pk_attr': 'id', 'table_description': 'A value of one custom field of one record. A multi-choice value is one row per chosen value.'},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='ObjectTag',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('object_type', fields.CharField(max_length=16)),
                ('object_id', fields.UUIDField()),
                ('tag', fields.CharField(max_length=64)),
            ],
            options={'table': 'object_tag', 'app': 'crm', 'indexes': [Index(fields=['object_id']), Index(fields=['organization_id', 'object_type', 'tag'])], 'pk_attr': 'id', 'table_description': 'Lookup index of the tags of orders, deals and tickets (kept by their services, like'},
            bases=['TenantModel'],
        ),
        ops.AddField(
            model_name='Deal',
            name='tags',
            field=fields.JSONField(default=list, db_default=[], encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.AddField(
            model_name='Order',
            name='tags',
            field=fields.JSONField(default=list, db_default=[], encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.AddField(
            model_name='Ticket',
            name='tags',
            field=fields.JSONField(default=list, db_default=[], encoder=JSON_DUMPS, decoder=loads),
        ),
    ]
