from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.migrations.constraints import UniqueConstraint

class Migration(migrations.Migration):
    dependencies = [('crm', '0007_notifications')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Membership',
            name='phone_extension',
            field=fields.CharField(null=True, max_length=32),
        ),
        ops.AddConstraint(
            model_name='Membership',
            constraint=UniqueConstraint(fields=('organization', 'phone_extension'), name=None),
        ),
    ]
