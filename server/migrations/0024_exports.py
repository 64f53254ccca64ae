from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('crm', '0023_email_channel')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Export',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('requested_by', fields.ForeignKeyField('crm.User', source_field='requested_by_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('list_name', fields.CharField(max_length=16)),
                ('format', fields.CharField(max_length=8)),
                ('filters', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('language', fields.CharField(default='uk', max_length=8)),
                ('status', fields.CharField(default='queued', max_length=16)),
                ('rows_done', fields.IntField(default=0)),
                ('rows_total', fields.IntField(null=True)),
                ('row_count', fields.IntField(null=True)),
                ('error', fields.TextField(null=True, unique=False)),
                ('file_name', fields.CharField(null=True, max_length=128)),
                ('content_type', fields.CharField(null=True, max_length=128)),
                ('size_bytes', fields.BigIntField(null=True)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'export', 'app': 'crm', 'pk_attr': 'id', 'table_description': 'One requested export: what, with which filters, by whom, and how far it got.'},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='ExportChunk',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('export', fields.ForeignKeyField('crm.Export', source_field='export_id', db_constraint=True, to_field='id', related_name='chunks', on_delete=OnDelete.CASCADE)),
                ('seq', fields.IntField()),
                ('data', fields.BinaryField()),
            ],
            options={'table': 'export_chunk', 'app': 'crm', 'unique_together': (('export', 'seq'),), 'pk_attr': 'id', 'table_description': "A piece of an export's file, in order (``seq``)."},
            bases=['Model'],
        ),
    ]
