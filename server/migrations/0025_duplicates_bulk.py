from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index
import json
from datetime import UTC, datetime


async def index_existing_contacts(apps, schema_editor) -> None:
    """The duplicate check finds contacts through contact_identifier: index the contacts
    that exist already (their phones are stored normalized since contacts exist)."""
    client = schema_editor.client
    rows = await client.execute_query_dict("SELECT id, organization_id, phones, emails FROM contact")
    now = datetime.now(UTC)
    values = []
    for row in rows:
        for kind, column in (("phone", "phones"), ("email", "emails")):
            items = row[column]
            items = json.loads(items) if isinstance(items, str | bytes) else (items or [])
            for value in dict.fromkeys(items):
                values.append([str(uuid4()), now, now, str(row["organization_id"]), str(row["id"]), kind, value])
    sqlite = client.capabilities.dialect == "sqlite"
    marks = ", ".join("?" if sqlite else f"${i}" for i in range(1, 8))
    sql = (
        'INSERT INTO contact_identifier (id, created_at, updated_at, organization_id, contact_id, kind, value) '
        f"VALUES ({marks})"
    )
    for start in range(0, len(values), 500):
        batch = values[start : start + 500]
        if sqlite:
            await client.execute_many(sql, [[v.isoformat() if isinstance(v, datetime) else v for v in b] for b in batch])
        else:
            from uuid import UUID

            await client.execute_many(sql, [[UUID(b[0]), b[1], b[2], UUID(b[3]), UUID(b[4]), b[5], b[6]] for b in batch])

class Migration(migrations.Migration):
    dependencies = [('crm', '0024_exports')]

    initial = False

    operations = [
        ops.CreateModel(
            name='BulkJob',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('object_type', fields.CharField(max_length=16)),
                ('action', fields.CharField(max_length=16)),
                ('params', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('state', fields.CharField(default='queued', max_length=16)),
                ('total', fields.IntField(default=0)),
                ('succeeded', fields.IntField(default=0)),
                ('refused', fields.IntField(default=0)),
                ('requested_by', fields.ForeignKeyField('crm.User', source_field='requested_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('locale', fields.CharField(default='uk', max_length=8)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'bulk_job', 'app': 'crm', 'indexes': [Index(fields=['organization_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'One bulk action (change status, assign, tag, delete) over many orders, deals, tickets or'},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='BulkJobItem',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('job', fields.ForeignKeyField('crm.BulkJob', source_field='job_id', db_constraint=True, to_field='id', related_name='items', on_delete=OnDelete.CASCADE)),
                ('position', fields.IntField()),
                ('target_id', fields.UUIDField()),
                ('expected_version', fields.IntField(null=True)),
                ('state', fields.CharField(default='pending', max_length=16)),
                ('code', fields.CharField(null=True, max_length=32)),
                ('message', fields.TextField(default='', unique=False)),
                ('field', fields.CharField(null=True, max_length=64)),
            ],
            options={'table': 'bulk_job_item', 'app': 'crm', 'unique_together': (('job', 'position'),), 'indexes': [Index(fields=['job_id', 'state'])], 'pk_attr': 'id', 'table_description': 'One target of a bulk job and what happened to it. ``state`` changes in the same'},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='ContactIdentifier',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('contact', fields.ForeignKeyField('crm.Contact', source_field='contact_id', db_constraint=True, to_field='id', related_name='identifiers', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=8)),
                ('value', fields.CharField(max_length=254)),
            ],
            options={'table': 'contact_identifier', 'app': 'crm', 'indexes': [Index(fields=['contact_id']), Index(fields=['organization_id', 'kind', 'value'])], 'pk_attr': 'id', 'table_description': "Lookup index of contacts' phones and e-mails (kept by the accounts service), so the"},
            bases=['TenantModel'],
        ),
        ops.AddField(
            model_name='Organization',
            name='duplicate_policy',
            field=fields.CharField(default='warn', db_default='warn', max_length=8),
        ),
        ops.RunPython(index_existing_contacts, ops.RunPython.noop),
    ]
