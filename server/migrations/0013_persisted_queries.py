from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('crm', '0012_customer_figures')]

    initial = False

    operations = [
        ops.CreateModel(
            name='PersistedQuery',
            fields=[
                ('sha256', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('query', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'persisted_query', 'app': 'crm', 'pk_attr': 'sha256', 'table_description': 'A GraphQL document registered under its SHA-256, shared by every API process.'},
            bases=['Model'],
        ),
        ops.AddIndex(
            model_name='Account',
            index=Index(fields=['organization_id', 'updated_at']),
        ),
        ops.AddIndex(
            model_name='Activity',
            index=Index(fields=['organization_id', 'updated_at']),
        ),
        ops.AddIndex(
            model_name='Contact',
            index=Index(fields=['organization_id', 'updated_at']),
        ),
        ops.AddIndex(
            model_name='Deal',
            index=Index(fields=['organization_id', 'updated_at']),
        ),
        ops.AddIndex(
            model_name='Order',
            index=Index(fields=['organization_id', 'updated_at']),
        ),
        ops.AddIndex(
            model_name='Ticket',
            index=Index(fields=['organization_id', 'updated_at']),
        ),
    ]
