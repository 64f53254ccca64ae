from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('crm', '0005_shipments')]

    initial = False

    operations = [
        ops.CreateModel(
            name='JobRun',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('job_id', fields.CharField(unique=True, max_length=255)),
                ('name', fields.CharField(db_index=True, max_length=128)),
                ('kwargs', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('state', fields.CharField(default='queued', db_index=True, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('run_after', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('locked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.TextField(default='', unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'job_run', 'app': 'crm', 'pk_attr': 'id', 'table_description': 'One job by its deterministic id. In process (no Redis) this table is the queue itself'},
            bases=['Model'],
        ),
    ]
