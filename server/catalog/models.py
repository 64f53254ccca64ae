"""The product catalog and stock: categories, products and their variants (the sellable
unit with a SKU), warehouses, stock per variant per warehouse, the movements that changed it,
the reservations orders hold, and the organization's stock rule (backorders).

Written only by server/catalog/service.py. Quantities are Decimal with 3 places (as order
lines); money is Decimal with 2 places and its currency."""

from __future__ import annotations

from tortoise import fields

from server.core.models import TenantModel

MOVEMENT_KINDS = ("receive", "write_off", "count", "reserve", "release", "ship")
RESERVATION_STATES = ("active", "released", "shipped")
PRICE_SOURCES = ("manual", "api", "system")


class ProductCategory(TenantModel):
    """A category, in a tree by its parent (null: a top-level category)."""

    name = fields.CharField(max_length=200)
    parent = fields.ForeignKeyField("crm.ProductCategory", related_name=False, null=True, on_delete=fields.SET_NULL)
    position = fields.IntField(default=0)
    version = fields.IntField(default=1)

    resource = "catalog"

    class Meta:
        table = "product_category"
        indexes = (("organization_id", "parent_id"),)


class Product(TenantModel):
    """What the shop sells, as people name it, sold as one or more variants."""

    title = fields.CharField(max_length=300)
    description = fields.TextField(default="")
    category = fields.ForeignKeyField("crm.ProductCategory", related_name=False, null=True, on_delete=fields.SET_NULL)
    photos = fields.JSONField(default=list, db_default=[])  # https links, in display order
    is_active = fields.BooleanField(default=True)
    version = fields.IntField(default=1)

    resource = "catalog"

    class Meta:
        table = "product"
        indexes = (("organization_id", "created_at"), ("organization_id", "updated_at"))


class ProductVariant(TenantModel):
    """A sellable unit: one SKU (unique per organization), its price, cost, size and stock."""

    product = fields.ForeignKeyField("crm.Product", related_name="variants", on_delete=fields.CASCADE)
    sku = fields.CharField(max_length=64)
    barcode = fields.CharField(max_length=64, null=True, db_index=True)
    title = fields.CharField(max_length=300)  # the full line title, e.g. "Чайник Bosch, білий"
    price = fields.DecimalField(max_digits=14, decimal_places=2)
    currency = fields.CharField(max_length=3)
    cost = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    weight_grams = fields.IntField(null=True)
    length_mm = fields.IntField(null=True)
    width_mm = fields.IntField(null=True)
    height_mm = fields.IntField(null=True)
    photos = fields.JSONField(default=list, db_default=[])
    is_active = fields.BooleanField(default=True)
    # catalog.low_stock is emitted when the available quantity (all warehouses) drops below it.
    low_stock_threshold = fields.DecimalField(max_digits=12, decimal_places=3, null=True)
    position = fields.IntField(default=0)
    version = fields.IntField(default=1)

    resource = "catalog"

    class Meta:
        table = "product_variant"
        unique_together = (("organization", "sku"),)
        indexes = (("product_id", "position"), ("organization_id", "created_at"))


class Warehouse(TenantModel):
    """A place stock is kept. Orders reserve from the first active warehouse (by position) that
    has the whole quantity of a line."""

    name = fields.CharField(max_length=200)
    code = fields.CharField(max_length=32)
    position = fields.IntField(default=0)
    is_active = fields.BooleanField(default=True)
    version = fields.IntField(default=1)

    resource = "catalog"

    class Meta:
        table = "warehouse"
        unique_together = (("organization", "code"),)


class StockLevel(TenantModel):
    """A variant's stock in one warehouse. available = on_hand − reserved (not stored)."""

    variant = fields.ForeignKeyField("crm.ProductVariant", related_name=False, on_delete=fields.CASCADE)
    warehouse = fields.ForeignKeyField("crm.Warehouse", related_name=False, on_delete=fields.CASCADE)
    on_hand = fields.DecimalField(max_digits=14, decimal_places=3, default=0)
    reserved = fields.DecimalField(max_digits=14, decimal_places=3, default=0)

    resource = "catalog"

    class Meta:
        table = "stock_level"
        unique_together = (("variant", "warehouse"),)


class StockMovement(TenantModel):
    """One change of a stock level: an adjustment (receive, write_off, count) or an order's
    reservation, release or shipment. The history of every on-hand and reserved number."""

    variant = fields.ForeignKeyField("crm.ProductVariant", related_name=False, on_delete=fields.CASCADE)
    warehouse = fields.ForeignKeyField("crm.Warehouse", related_name=False, on_delete=fields.CASCADE)
    kind = fields.CharField(max_length=16)
    on_hand_delta = fields.DecimalField(max_digits=14, decimal_places=3, default=0)
    reserved_delta = fields.DecimalField(max_digits=14, decimal_places=3, default=0)
    on_hand_after = fields.DecimalField(max_digits=14, decimal_places=3)
    reserved_after = fields.DecimalField(max_digits=14, decimal_places=3)
    reason = fields.CharField(max_length=500, default="")
    order = fields.ForeignKeyField("crm.Order", related_name=False, null=True, on_delete=fields.SET_NULL)
    actor_kind = fields.CharField(max_length=16, default="user")
    actor_id = fields.CharField(max_length=64, null=True)

    resource = "catalog"

    class Meta:
        table = "stock_movement"
        indexes = (("variant_id", "created_at"), ("organization_id", "created_at"), ("order_id", "created_at"))


class PriceChange(TenantModel):
    """One change of a variant's price or cost in one currency, kept for its price history.

    Made by the catalog service in the write's own transaction, and only when a number really
    changed: a new variant records its first price (``old_price`` null); a variant moved to
    another currency records the old currency's price and cost as removed (``new_*`` null) and
    the new currency's as set (``old_*`` null). ``price_changed`` is false for a change of the
    cost alone, which roles that may not see costs do not see at all."""

    variant = fields.ForeignKeyField("crm.ProductVariant", related_name=False, on_delete=fields.CASCADE)
    currency = fields.CharField(max_length=3)
    old_price = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    new_price = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    old_cost = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    new_cost = fields.DecimalField(max_digits=14, decimal_places=2, null=True)
    price_changed = fields.BooleanField(default=True)
    # The member who changed it; null for an API key, a partner app or the CRM's own work.
    changed_by = fields.ForeignKeyField("crm.User", related_name=False, null=True, on_delete=fields.SET_NULL)
    source = fields.CharField(max_length=16, default="manual")  # PRICE_SOURCES

    resource = "catalog"

    class Meta:
        table = "price_change"
        indexes = (("organization_id", "variant_id", "created_at"),)


class StockReservation(TenantModel):
    """What an order holds of a variant in a warehouse: active (reserved), then
    released (cancelled) or shipped (written off). One active row per order, variant
    and warehouse at most, which makes reserving idempotent."""

    order = fields.ForeignKeyField("crm.Order", related_name=False, on_delete=fields.CASCADE)
    variant = fields.ForeignKeyField("crm.ProductVariant", related_name=False, on_delete=fields.CASCADE)
    warehouse = fields.ForeignKeyField("crm.Warehouse", related_name=False, on_delete=fields.CASCADE)
    quantity = fields.DecimalField(max_digits=14, decimal_places=3)
    state = fields.CharField(max_length=16, default="active")

    resource = "catalog"

    class Meta:
        table = "stock_reservation"
        indexes = (("order_id", "state"), ("variant_id", "state"))


class CatalogSettings(TenantModel):
    """The organization's stock rule: may an order be confirmed with too little stock?"""

    allow_backorders = fields.BooleanField(default=False)

    resource = "catalog"

    class Meta:
        table = "catalog_settings"
        unique_together = (("organization",),)
