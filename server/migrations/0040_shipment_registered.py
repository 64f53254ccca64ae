from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('crm', '0039_fiscal_receipts')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Shipment',
            name='registered',
            field=fields.BooleanField(default=False),
        ),
    ]
