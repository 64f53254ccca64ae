from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from uuid import uuid4
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('crm', '0016_campaigns')]

    initial = False

    operations = [
        ops.CreateModel(
            name='TrackedLink',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('created_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('organization', fields.ForeignKeyField('crm.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('notification', fields.ForeignKeyField('crm.Notification', source_field='notification_id', db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('campaign_message', fields.ForeignKeyField('crm.CampaignMessage', source_field='campaign_message_id', null=True, db_index=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('account', fields.ForeignKeyField('crm.Account', source_field='account_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('url', fields.TextField(unique=False)),
                ('first_clicked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('clicks', fields.IntField(default=0)),
            ],
            options={'table': 'tracked_link', 'app': 'crm', 'pk_attr': 'id', 'table_description': 'One address of one sent message: where it leads, when it was first opened, how often.'},
            bases=['TenantModel'],
        ),
        ops.AddField(
            model_name='NotificationSettings',
            name='track_links',
            field=fields.BooleanField(default=True),
        ),
    ]
