from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('crm', '0018_partner_access_installations_and_audit_actors')]

    initial = False

    operations = [
        ops.CreateModel(
            name='WebhookEndpoint',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('url', fields.CharField(max_length=2000)),
                ('description', fields.CharField(default='', max_length=300)),
                ('event_types', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('filters', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('secrets', fields.TextField(default='', unique=False)),
                ('previous_expires_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('enabled', fields.BooleanField(default=True)),
                ('disabled_reason', fields.CharField(default='', max_length=300)),
                ('disabled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('failure_streak', fields.IntField(default=0)),
                ('version', fields.IntField(default=1)),
            ],
            options={'table': 'webhook_endpoint', 'app': 'crm', 'pk_attr': 'id', 'table_description': "An HTTPS address that gets the organization's events it subscribed to."},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='WebhookMessage',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('endpoint', fields.ForeignKeyField('crm.WebhookEndpoint', source_field='endpoint_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('event_id', fields.UUIDField()),
                ('event_type', fields.CharField(max_length=64)),
                ('payload', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('status', fields.CharField(default='pending', max_length=12)),
                ('attempt_count', fields.IntField(default=0)),
                ('round_attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_attempt_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_status_code', fields.IntField(null=True)),
            ],
            options={'table': 'webhook_message', 'app': 'crm', 'unique_together': (('endpoint', 'event_id'),), 'indexes': [Index(fields=['endpoint_id', 'status', 'created_at']), Index(fields=['status', 'next_attempt_at'])], 'pk_attr': 'id', 'table_description': 'One event for one endpoint. Unique per (endpoint, event): fanning an event out twice'},
            bases=['TenantModel'],
        ),
        ops.CreateModel(
            name='WebhookAttempt',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('message', fields.ForeignKeyField('crm.WebhookMessage', source_field='message_id', db_constraint=True, to_field='id', related_name='attempts', on_delete=OnDelete.CASCADE)),
                ('attempted_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('status_code', fields.IntField(null=True)),
                ('duration_ms', fields.IntField()),
                ('response_excerpt', fields.TextField(default='', unique=False)),
                ('error', fields.CharField(default='', max_length=300)),
                ('trigger', fields.CharField(default='scheduled', max_length=12)),
            ],
            options={'table': 'webhook_attempt', 'app': 'crm', 'pk_attr': 'id', 'table_description': "One HTTP request of a message: when, the answer's status (null: no answer), how long"},
            bases=['Model'],
        ),
    ]
