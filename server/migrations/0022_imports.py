from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('crm', '0021_custom_roles')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ImportBatch',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=16)),
                ('system', fields.CharField(max_length=32)),
                ('file_name', fields.CharField(max_length=255)),
                ('file_format', fields.CharField(max_length=8)),
                ('content', fields.BinaryField()),
                ('mapping', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('dry_run', fields.BooleanField(default=False)),
                ('status', fields.CharField(default='queued', max_length=16)),
                ('rows_total', fields.IntField(default=0)),
                ('rows_done', fields.IntField(default=0)),
                ('next_group', fields.IntField(default=0)),
                ('ok_count', fields.IntField(default=0)),
                ('created_count', fields.IntField(default=0)),
                ('matched_count', fields.IntField(default=0)),
                ('failed_count', fields.IntField(default=0)),
                ('problems', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('error', fields.TextField(null=True, unique=False)),
                ('requested_by', fields.ForeignKeyField('crm.User', source_field='requested_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('undone_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'import_batch', 'app': 'crm', 'pk_attr': 'id', 'table_description': 'One file: its rows are read, checked and (unless a dry run) written by a background job.'},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='ImportRecord',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('batch', fields.ForeignKeyField('crm.ImportBatch', source_field='batch_id', db_constraint=True, to_field='id', related_name='records', on_delete=OnDelete.CASCADE)),
                ('system', fields.CharField(max_length=32)),
                ('kind', fields.CharField(max_length=16)),
                ('external_id', fields.CharField(max_length=128)),
                ('object_id', fields.UUIDField()),
                ('created', fields.BooleanField()),
            ],
            options={'table': 'import_record', 'app': 'crm', 'unique_together': (('organization', 'system', 'kind', 'external_id'),), 'pk_attr': 'id', 'table_description': "An object an import created or found, by the source system's id: the second run of the"},
            bases=['TenantModel'],
        ),
    ]
