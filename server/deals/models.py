from __future__ import annotations

from tortoise import fields

from server.core.models import TenantModel


class Pipeline(TenantModel):
    name = fields.CharField(max_length=200)
    position = fields.IntField(default=0)
    is_default = fields.BooleanField(default=False)

    resource = "pipelines"

    class Meta:
        table = "pipeline"


class Stage(TenantModel):
    pipeline = fields.ForeignKeyField("crm.Pipeline", related_name="stages", on_delete=fields.CASCADE)
    name = fields.CharField(max_length=200)
    position = fields.IntField(default=0)
    probability = fields.IntField(default=0)  # percent, 0..100
    kind = fields.CharField(max_length=8, default="open")  # open | won | lost

    resource = "pipelines"

    class Meta:
        table = "stage"
        indexes = (("pipeline_id", "position"),)


class Deal(TenantModel):
    title = fields.CharField(max_length=300)
    account = fields.ForeignKeyField("crm.Account", related_name="deals", on_delete=fields.CASCADE)
    contact = fields.ForeignKeyField("crm.Contact", related_name=False, null=True, on_delete=fields.SET_NULL)
    pipeline = fields.ForeignKeyField("crm.Pipeline", related_name=False, on_delete=fields.RESTRICT)
    stage = fields.ForeignKeyField("crm.Stage", related_name=False, on_delete=fields.RESTRICT)
    amount = fields.DecimalField(max_digits=14, decimal_places=2, default=0)
    currency = fields.CharField(max_length=3)
    expected_close_date = fields.DateField(null=True)
    owner = fields.ForeignKeyField("crm.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    source = fields.CharField(max_length=64, null=True)
    lost_reason = fields.TextField(null=True)
    tags = fields.JSONField(default=list, db_default=[])  # lower case, sorted; indexed in customfields.ObjectTag
    closed_at = fields.DatetimeField(null=True)
    version = fields.IntField(default=1)
    deleted_at = fields.DatetimeField(null=True)

    resource = "deals"
    owner_path = "owner_id"

    class Meta:
        table = "deal"
        indexes = (
            ("account_id", "created_at"),
            ("organization_id", "created_at"),
            ("organization_id", "updated_at"),
        )


class DealStageChange(TenantModel):
    deal = fields.ForeignKeyField("crm.Deal", related_name="stage_history", on_delete=fields.CASCADE)
    from_stage = fields.ForeignKeyField("crm.Stage", related_name=False, null=True, on_delete=fields.SET_NULL)
    to_stage = fields.ForeignKeyField("crm.Stage", related_name=False, on_delete=fields.CASCADE)
    actor = fields.ForeignKeyField("crm.User", related_name=False, null=True, on_delete=fields.SET_NULL)

    resource = "deals"
    owner_path = "deal__owner_id"

    class Meta:
        table = "deal_stage_change"
        indexes = (("deal_id", "created_at"),)
