from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("crm", "0036_user_locale")]

    initial = False

    operations = [
        ops.AddField(
            model_name="Shipment",
            name="cash_on_delivery",
            field=fields.DecimalField(null=True, max_digits=14, decimal_places=2),
        ),
        ops.AddField(
            model_name="Shipment",
            name="cash_on_delivery_paid_at",
            field=fields.DatetimeField(null=True),
        ),
    ]
