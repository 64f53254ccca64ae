from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("crm", "0035_channel_routes")]

    initial = False

    operations = [
        ops.AddField(
            model_name="User",
            name="locale",
            field=fields.CharField(null=True, max_length=8),
        ),
    ]
