from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('crm', '0016_campaigns')]

    initial = False

    operations = [
        ops.AddField(
            model_name='AuditEntry',
            name='actor_via',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='OAuthRefreshToken',
            name='granted_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
