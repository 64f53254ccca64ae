from __future__ import annotations

from tortoise import fields

from server.core.models import TenantModel

STATUS_GROUPS = ("new", "in_progress", "shipping", "completed", "cancelled")
PAYMENT_STATUSES = ("unpaid", "partially_paid", "paid", "refunded")


class OrderStatus(TenantModel):
    """One of the configurable order statuses, in one of STATUS_GROUPS."""

    code = fields.CharField(max_length=48)
    name = fields.CharField(max_length=200)
    group = fields.CharField(max_length=16)
    position = fields.IntField(default=0)
    is_initial = fields.BooleanField(default=False)

    resource = "order_statuses"

    class Meta:
        table = "order_status"
        unique_together = (("organization", "code"),)


class OrderStatusTransition(TenantModel):
    from_status = fields.ForeignKeyField("crm.OrderStatus", related_name="transitions_out", on_delete=fields.CASCADE)
    to_status = fields.ForeignKeyField("crm.OrderStatus", related_name="transitions_in", on_delete=fields.CASCADE)

    resource = "order_statuses"

    class Meta:
        table = "order_status_transition"
        unique_together = (("from_status", "to_status"),)


class Order(TenantModel):
    number = fields.IntField()
    account = fields.ForeignKeyField("crm.Account", related_name="orders", on_delete=fields.RESTRICT)
    status = fields.ForeignKeyField("crm.OrderStatus", related_name=False, on_delete=fields.RESTRICT)
    currency = fields.CharField(max_length=3)
    subtotal = fields.DecimalField(max_digits=14, decimal_places=2, default=0)
    discount_total = fields.DecimalField(max_digits=14, decimal_places=2, default=0)
    total = fields.DecimalField(max_digits=14, decimal_places=2, default=0)
    payment_status = fields.CharField(max_length=16, default="unpaid")
    source = fields.CharField(max_length=32, default="manual", db_index=True)
    external_id = fields.CharField(max_length=128, null=True)
    manager = fields.ForeignKeyField("crm.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    comment = fields.TextField(null=True)
    # Delivery details.
    delivery_method = fields.CharField(max_length=32, null=True)
    recipient_name = fields.CharField(max_length=300, null=True)
    recipient_phone = fields.CharField(max_length=20, null=True)
    delivery_city = fields.CharField(max_length=200, null=True)
    delivery_branch = fields.CharField(max_length=200, null=True)
    delivery_address = fields.CharField(max_length=500, null=True)
    waybill_number = fields.CharField(max_length=64, null=True, db_index=True)
    tags = fields.JSONField(default=list, db_default=[])  # lower case, sorted; indexed in customfields.ObjectTag
    version = fields.IntField(default=1)
    deleted_at = fields.DatetimeField(null=True)

    resource = "orders"
    owner_path = "manager_id"

    class Meta:
        table = "order"
        unique_together = (("organization", "number"), ("organization", "source", "external_id"))
        indexes = (
            ("account_id", "created_at"),
            ("organization_id", "created_at"),
            ("organization_id", "updated_at"),
        )


class OrderItem(TenantModel):
    order = fields.ForeignKeyField("crm.Order", related_name="items", on_delete=fields.CASCADE)
    position = fields.IntField(default=0)
    sku = fields.CharField(max_length=64)
    title = fields.CharField(max_length=300)
    quantity = fields.DecimalField(max_digits=12, decimal_places=3)
    unit_price = fields.DecimalField(max_digits=14, decimal_places=2)
    discount = fields.DecimalField(max_digits=14, decimal_places=2, default=0)
    total = fields.DecimalField(max_digits=14, decimal_places=2)
    # A line from the catalog (null: a free-text line); its cost per unit when the line was
    # made, for the order's margin (docs/catalog.md).
    variant = fields.ForeignKeyField("crm.ProductVariant", related_name=False, null=True, on_delete=fields.SET_NULL)
    unit_cost = fields.DecimalField(max_digits=14, decimal_places=2, null=True)

    resource = "orders"
    owner_path = "order__manager_id"

    class Meta:
        table = "order_item"
        indexes = (("order_id", "position"),)


class OrderStatusChange(TenantModel):
    order = fields.ForeignKeyField("crm.Order", related_name="status_history", on_delete=fields.CASCADE)
    from_status = fields.ForeignKeyField("crm.OrderStatus", related_name=False, null=True, on_delete=fields.SET_NULL)
    to_status = fields.ForeignKeyField("crm.OrderStatus", related_name=False, on_delete=fields.CASCADE)
    actor = fields.ForeignKeyField("crm.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    reason = fields.TextField(null=True)

    resource = "orders"
    owner_path = "order__manager_id"

    class Meta:
        table = "order_status_change"
        indexes = (("order_id", "created_at"),)
