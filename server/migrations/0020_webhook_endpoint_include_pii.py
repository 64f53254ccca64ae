from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('crm', '0019_partner_webhooks')]

    initial = False

    operations = [
        ops.AddField(
            model_name='WebhookEndpoint',
            name='include_pii',
            field=fields.BooleanField(default=False),
        ),
    ]
