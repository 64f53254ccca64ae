from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('crm', '0002_plugins_and_deal_index')]

    initial = False

    operations = [
        ops.AddField(
            model_name='IdempotencyKey',
            name='request_hash',
            field=fields.CharField(null=True, max_length=64),
        ),
    ]
