"""GraphQL for the catalog and stock: products and variants, categories, warehouses, stock levels
and movements, stock adjustments and the backorder rule (docs/catalog.md)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from pypika_tortoise.terms import Term
from strawberry.types import Info
from tortoise.expressions import Q, RawSQL, Subquery

from server.catalog import service
from server.catalog.models import (
    CatalogSettings,
    PriceChange,
    Product,
    ProductCategory,
    ProductVariant,
    StockLevel,
    StockMovement,
    Warehouse,
)
from server.core.errors import Forbidden
from server.graphql import ids
from server.graphql.errors import UserError, run_mutation
from server.graphql.filters import ChangedSince, DateTimeFilter, IDFilter, Lookup, StringFilter, build_q
from server.graphql.inputs import given
from server.graphql.loaders import load_by_id, load_children
from server.graphql.pagination import (
    Direction,
    Edge,
    PageInfo,
    Sort,
    check_first,
    connection_of,
    decode_cursor,
    encode_cursor,
    paginate,
)
from server.graphql.types import Money, Node, UserType, model_type
from server.i18n import _
from server.orders.models import Order

if TYPE_CHECKING:
    from server.orders.schema import OrderType

LazyOrderType = Annotated["OrderType", strawberry.lazy("server.orders.schema")]

ZERO = Decimal("0")


def quantity_out(q: Decimal) -> Decimal:
    """``2`` rather than ``2.000``; ``0.5`` rather than ``0.500`` (as order lines show it)."""
    return q.quantize(Decimal(1)) if q == q.to_integral_value() else q.normalize()


def require_visible(info: Info, type_name: str, field_name: str) -> None:
    """Costs and margins some roles may not see (``Role.hidden_fields``): FORBIDDEN on the field."""
    if not info.context.scope.can_see_field(type_name, field_name):
        raise Forbidden(_("Your role may not see %(type)s.%(field)s.", type=type_name, field=field_name))


@strawberry.enum(description="Why a stock level changed.")
class StockMovementKind(Enum):
    RECEIVE = strawberry.enum_value("receive", description="Goods received (+).")
    WRITE_OFF = strawberry.enum_value("write_off", description="Goods written off: damaged, lost (−).")
    COUNT = strawberry.enum_value("count", description="A stock count set the quantity on hand.")
    RESERVE = strawberry.enum_value("reserve", description="An order was confirmed: reserved grows.")
    RELEASE = strawberry.enum_value("release", description="An order was cancelled or changed: reserved shrinks.")
    SHIP = strawberry.enum_value("ship", description="An order was shipped: on hand and reserved shrink.")


@strawberry.enum(description="A stock adjustment made by warehouse staff.")
class StockAdjustmentKind(Enum):
    RECEIVE = strawberry.enum_value("receive", description="Add `quantity` to what is on hand.")
    WRITE_OFF = strawberry.enum_value("write_off", description="Take `quantity` off what is on hand.")
    COUNT = strawberry.enum_value("count", description="Set what is on hand to the counted `quantity`.")


@model_type(ProductCategory, description="A product category; `parent` makes a tree.")
class ProductCategoryType(Node):
    name: str = strawberry.field(description="What people see, e.g. `Чайники`.")
    position: int = strawberry.field(description="Display order among its siblings.")
    version: int = strawberry.field(description="Pass it back to update (optimistic concurrency).")
    created_at: datetime = strawberry.field(description="When it was added.")
    updated_at: datetime = strawberry.field(description="When it last changed.")

    @strawberry.field(description="The category it sits in; null for a top-level one.")
    async def parent(self, info: Info) -> ProductCategoryType | None:
        return await load_by_id(info.context, ProductCategory, self.parent_id)  # type: ignore[attr-defined]


@model_type(Warehouse, description="A place stock is kept. Orders reserve from active warehouses, by position.")
class WarehouseType(Node):
    name: str = strawberry.field(description="What people see, e.g. `Київ, склад 1`.")
    code: str = strawberry.field(description="A short unique code, lower case.")
    position: int = strawberry.field(description="Orders reserve from the first warehouse (lowest) with enough stock.")
    is_active: bool = strawberry.field(description="Inactive warehouses are not reserved from.")
    version: int = strawberry.field(description="Pass it back to update (optimistic concurrency).")


@model_type(StockLevel, description="A variant's stock in one warehouse.")
class StockLevelType:
    @strawberry.field(description="The warehouse.")
    async def warehouse(self, info: Info) -> WarehouseType | None:
        return await load_by_id(info.context, Warehouse, self.warehouse_id)  # type: ignore[attr-defined]

    @strawberry.field(description="Units physically there.")
    def on_hand(self) -> Decimal:
        return quantity_out(self.on_hand)  # type: ignore[attr-defined]

    @strawberry.field(description="Units held for confirmed orders, not shipped yet.")
    def reserved(self) -> Decimal:
        return quantity_out(self.reserved)  # type: ignore[attr-defined]

    @strawberry.field(description="onHand − reserved: what new orders may take (negative with backorders).")
    def available(self) -> Decimal:
        return quantity_out(self.on_hand - self.reserved)  # type: ignore[attr-defined]


async def _levels(info: Info, variant_id) -> list[StockLevel]:
    return await load_children(info.context, StockLevel, "variant_id", variant_id)


async def _active_warehouse_ids(info: Info) -> set:
    async def load(keys):
        rows = await info.context.scope.queryset(Warehouse).filter(is_active=True).values_list("id", flat=True)
        return [set(rows) for _ in keys]

    return await info.context.loader(("active_warehouses",), lambda ctx: load).load(0)


@strawberry.enum(description="Where a price or cost change came from.")
class PriceChangeSource(Enum):
    MANUAL = strawberry.enum_value("manual", description="A member changed it in the CRM.")
    API = strawberry.enum_value(
        "api", description="An API key or a partner app (also an app acting for a member, who is then `changedBy`)."
    )
    SYSTEM = strawberry.enum_value("system", description="The CRM's own background work.")


def _money(amount: Decimal | None, currency: str) -> Money | None:
    return None if amount is None else Money(amount=amount, currency=currency)


@model_type(
    PriceChange,
    description="One change of a variant's price or cost in one currency. A price set for the first time has "
    "`oldPrice` null; a price that ended (the variant moved to another currency) has `newPrice` null.",
)
class PriceChangeType:
    currency: str = strawberry.field(description="The currency (ISO 4217) of the amounts of this change.")

    @strawberry.field(description="When it changed.")
    def changed_at(self) -> datetime:
        return self.created_at  # type: ignore[attr-defined]

    @strawberry.field(description="The price before; null when the variant had no price in this currency.")
    def old_price(self) -> Money | None:
        return _money(self.old_price, self.currency)  # type: ignore[attr-defined]

    @strawberry.field(description="The price after; null when the variant no longer has a price in this currency.")
    def new_price(self) -> Money | None:
        return _money(self.new_price, self.currency)  # type: ignore[attr-defined]

    @strawberry.field(
        description="The cost before (null: none). Hidden as `ProductVariant.cost` is (FORBIDDEN for sales, "
        "support and logistics)."
    )
    def old_cost(self, info: Info) -> Money | None:
        require_visible(info, "ProductVariant", "cost")
        return _money(self.old_cost, self.currency)  # type: ignore[attr-defined]

    @strawberry.field(
        description="The cost after (null: none). Hidden as `ProductVariant.cost` is (FORBIDDEN for sales, "
        "support and logistics)."
    )
    def new_cost(self, info: Info) -> Money | None:
        require_visible(info, "ProductVariant", "cost")
        return _money(self.new_cost, self.currency)  # type: ignore[attr-defined]

    @strawberry.field(description="The member who changed it; null for an API key, a partner app or the CRM itself.")
    async def changed_by(self, info: Info) -> UserType | None:
        from server.auth.schema import load_member

        pk = self.changed_by_id  # type: ignore[attr-defined]
        return await load_member(info.context, pk) if pk else None

    @strawberry.field(description="Where the change came from.")
    def source(self) -> PriceChangeSource:
        return PriceChangeSource(self.source)  # type: ignore[attr-defined]


PriceChangeConnection = connection_of(PriceChangeType, "PriceChangeConnection")
HISTORY_SORT = Sort("created_at", datetime, Direction.DESC)
# Rank of a price change among its variant's, newest first (the order of HISTORY_SORT).
_HISTORY_RANK = 'ROW_NUMBER() OVER (PARTITION BY "variant_id" ORDER BY "created_at" DESC, "id" DESC)'


class _FirstPerVariant(Term):
    """SQL: the ids of the first ``n`` rows of each variant in ``query`` (newest first): one
    statement for the price history of a whole page of variants."""

    def __init__(self, query, n: int) -> None:
        super().__init__()
        self.query, self.n = query, int(n)

    def get_sql(self, ctx) -> str:
        inner = Subquery(self.query.annotate(pos=RawSQL(_HISTORY_RANK)).values("id", "pos")).get_sql(ctx)
        inner = inner if inner.startswith("(") else f"({inner})"
        return f'(SELECT "id" FROM {inner} "ranked" WHERE "pos" <= {self.n})'  # noqa: S608 - an int and ORM SQL


def _price_history_loader(first: int, after: str | None):
    """Pages of price history per variant id, for one (first, after): one statement for all of them."""

    def factory(ctx):
        async def load(variant_ids: list) -> list:
            # Roles that may not see costs do not see that a cost alone changed either.
            qs = ctx.scope.queryset(PriceChange)
            if not ctx.scope.can_see_field("ProductVariant", "cost"):
                qs = qs.filter(price_changed=True)
            wanted = qs.filter(variant_id__in=list(set(variant_ids)))
            if after:
                value, pk = decode_cursor(after, HISTORY_SORT)
                wanted = wanted.filter(Q(created_at__lt=value) | Q(created_at=value, id__lt=pk))
            rows = await qs.filter(id__in=_FirstPerVariant(wanted, first + 1)).order_by("-created_at", "-id")
            grouped: dict = defaultdict(list)
            for row in rows:
                grouped[row.variant_id].append(row)
            pages = []
            for variant_id in variant_ids:
                found = grouped.get(variant_id, [])
                edges = [Edge(cursor=encode_cursor(r, HISTORY_SORT), node=r) for r in found[:first]]
                page_info = PageInfo(
                    has_next_page=len(found) > first,
                    has_previous_page=after is not None,
                    start_cursor=edges[0].cursor if edges else None,
                    end_cursor=edges[-1].cursor if edges else None,
                )
                pages.append(
                    PriceChangeConnection(edges=edges, page_info=page_info, _queryset=qs.filter(variant_id=variant_id))
                )
            return pages

        return load

    return factory


@model_type(ProductVariant, description="A sellable unit of a product: one SKU with its price, cost, size and stock.")
class ProductVariantType(Node):
    sku: str = strawberry.field(description="Stock keeping unit, unique in the organization.")
    barcode: str | None = strawberry.field(description="EAN/UPC or the shop's own barcode.")
    title: str = strawberry.field(description="The title an order line gets, e.g. `Чайник Bosch, білий`.")
    weight_grams: int | None = strawberry.field(description="Weight of one unit in grams, for waybills.")
    length_mm: int | None = strawberry.field(description="Length of one unit's package in millimetres.")
    width_mm: int | None = strawberry.field(description="Width of one unit's package in millimetres.")
    height_mm: int | None = strawberry.field(description="Height of one unit's package in millimetres.")
    photos: list[str] = strawberry.field(description="Links to photos of this variant, in display order.")
    is_active: bool = strawberry.field(description="Archived variants (false) cannot be put on new order lines.")
    position: int = strawberry.field(description="Display order among the product's variants.")
    version: int = strawberry.field(description="Pass it back to update (optimistic concurrency).")
    created_at: datetime = strawberry.field(description="When it was added.")
    updated_at: datetime = strawberry.field(description="When it last changed.")

    @strawberry.field(description="The price of one unit; order lines take it when they give none.")
    def price(self) -> Money:
        return Money(amount=self.price, currency=self.currency)  # type: ignore[attr-defined]

    @strawberry.field(
        description="What one unit costs the shop, for margins; hidden from sales, support and logistics."
    )
    def cost(self, info: Info) -> Money | None:
        require_visible(info, "ProductVariant", "cost")
        return None if self.cost is None else Money(amount=self.cost, currency=self.currency)  # type: ignore[attr-defined]

    @strawberry.field(description="`catalog.low_stock` is sent when `available` drops below it; null: not watched.")
    def low_stock_threshold(self) -> Decimal | None:
        t = self.low_stock_threshold  # type: ignore[attr-defined]
        return None if t is None else quantity_out(t)

    @strawberry.field(description="The product it belongs to.")
    async def product(self, info: Info) -> ProductType | None:
        return await load_by_id(info.context, Product, self.product_id)  # type: ignore[attr-defined]

    @strawberry.field(
        description="Every change of its price and cost, per currency, newest first: who changed it, when, and "
        "from where. Roles that may not see `cost` see only the price changes, and `oldCost`/`newCost` are "
        "FORBIDDEN for them."
    )
    async def price_history(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description="Page size, at most 100.")] = 20,
        after: Annotated[str | None, strawberry.argument(description="The previous page's endCursor.")] = None,
    ) -> PriceChangeConnection:  # type: ignore[valid-type]
        ctx = info.context
        first = check_first(first, ctx.settings.default_page_size, ctx.settings.max_page_size)
        key = ("price_history", first, after)
        return await ctx.loader(key, _price_history_loader(first, after)).load(self.id)  # type: ignore[attr-defined]

    @strawberry.field(description="Stock per warehouse (every warehouse that ever had it).")
    async def stock(self, info: Info) -> list[StockLevelType]:
        return await _levels(info, self.id)  # type: ignore[attr-defined]

    @strawberry.field(description="On hand over the active warehouses.")
    async def on_hand(self, info: Info) -> Decimal:
        return await _total(info, self.id, lambda lv: lv.on_hand)  # type: ignore[attr-defined]

    @strawberry.field(description="Reserved for orders over the active warehouses.")
    async def reserved(self, info: Info) -> Decimal:
        return await _total(info, self.id, lambda lv: lv.reserved)  # type: ignore[attr-defined]

    @strawberry.field(description="onHand − reserved over the active warehouses.")
    async def available(self, info: Info) -> Decimal:
        return await _total(info, self.id, lambda lv: lv.on_hand - lv.reserved)  # type: ignore[attr-defined]


async def _total(info: Info, variant_id, of) -> Decimal:
    """A sum over the variant's stock in the active warehouses."""
    active = await _active_warehouse_ids(info)
    levels = await _levels(info, variant_id)
    return quantity_out(sum((of(lv) for lv in levels if lv.warehouse_id in active), ZERO))


@model_type(Product, description="What the shop sells; sold as one or more variants (SKUs).")
class ProductType(Node):
    title: str = strawberry.field(description="The product's name.")
    description: str = strawberry.field(description="Free text for people.")
    photos: list[str] = strawberry.field(description="Links to photos, in display order.")
    is_active: bool = strawberry.field(description="Archived products (false) cannot be put on new order lines.")
    version: int = strawberry.field(description="Pass it back to update (optimistic concurrency).")
    created_at: datetime = strawberry.field(description="When it was added.")
    updated_at: datetime = strawberry.field(description="When it last changed.")

    @strawberry.field(description="Its category, if any.")
    async def category(self, info: Info) -> ProductCategoryType | None:
        return await load_by_id(info.context, ProductCategory, self.category_id)  # type: ignore[attr-defined]

    @strawberry.field(description="Its variants in display order, archived ones included.")
    async def variants(self, info: Info) -> list[ProductVariantType]:
        return await load_children(info.context, ProductVariant, "product_id", self.id, ("position", "id"))  # type: ignore[attr-defined]


@model_type(
    StockMovement,
    description="One change of a stock level: an adjustment or an order's reservation, release or shipment.",
)
class StockMovementType(Node):
    reason: str = strawberry.field(description="Why, in the words of whoever adjusted it.")
    created_at: datetime = strawberry.field(description="When.")

    @strawberry.field(description="What changed it.")
    def kind(self) -> StockMovementKind:
        return StockMovementKind(self.kind)  # type: ignore[attr-defined]

    @strawberry.field(description="Change of on hand (+ in, − out).")
    def on_hand_delta(self) -> Decimal:
        return quantity_out(self.on_hand_delta)  # type: ignore[attr-defined]

    @strawberry.field(description="Change of reserved.")
    def reserved_delta(self) -> Decimal:
        return quantity_out(self.reserved_delta)  # type: ignore[attr-defined]

    @strawberry.field(description="On hand after the change.")
    def on_hand_after(self) -> Decimal:
        return quantity_out(self.on_hand_after)  # type: ignore[attr-defined]

    @strawberry.field(description="Reserved after the change.")
    def reserved_after(self) -> Decimal:
        return quantity_out(self.reserved_after)  # type: ignore[attr-defined]

    @strawberry.field(description="The variant.")
    async def variant(self, info: Info) -> ProductVariantType | None:
        return await load_by_id(info.context, ProductVariant, self.variant_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The warehouse.")
    async def warehouse(self, info: Info) -> WarehouseType | None:
        return await load_by_id(info.context, Warehouse, self.warehouse_id)  # type: ignore[attr-defined]

    @strawberry.field(description="The order that reserved, released or shipped it; null if you may not see it.")
    async def order(self, info: Info) -> LazyOrderType | None:
        if self.order_id is None or not info.context.scope.can("orders:read"):  # type: ignore[attr-defined]
            return None
        return await load_by_id(info.context, Order, self.order_id, with_deleted=True)  # type: ignore[attr-defined]

    @strawberry.field(description="The member who made the change (for an order's movements, who moved the order).")
    async def actor(self, info: Info) -> UserType | None:
        from uuid import UUID

        from server.auth.schema import load_member

        if self.actor_kind != "user" or not self.actor_id:  # type: ignore[attr-defined]
            return None
        return await load_member(info.context, UUID(self.actor_id))  # type: ignore[attr-defined]


@strawberry.type(description="The organization's stock rule.")
class CatalogSettingsType:
    allow_backorders: bool = strawberry.field(
        description="May an order be confirmed with too little stock? false (default): it is refused with "
        "OUT_OF_STOCK per short line."
    )


ProductConnection = connection_of(ProductType, "ProductConnection")
ProductVariantConnection = connection_of(ProductVariantType, "ProductVariantConnection")
StockMovementConnection = connection_of(StockMovementType, "StockMovementConnection")


# -- lists ---------------------------------------------------------------------------------------


@strawberry.input(description="Filters for products; all given conditions must hold (use OR for any).")
class ProductWhere(ChangedSince):
    and_: list[ProductWhere] | None = strawberry.field(default=None, name="AND", description="All of these.")
    or_: list[ProductWhere] | None = strawberry.field(default=None, name="OR", description="Any of these.")
    search: StringFilter | None = strawberry.field(
        default=None,
        description="`contains`: in the title or a variant's SKU or barcode; "
        "`eq`/`in`: a variant's SKU or barcode exactly.",
    )
    sku: StringFilter | None = strawberry.field(default=None, description="A variant's SKU.")
    category: IDFilter | None = strawberry.field(default=None, description="In this category (not its subcategories).")
    is_active: bool | None = strawberry.field(default=None, description="true: on sale; false: archived.")
    created_at: DateTimeFilter | None = strawberry.field(default=None, description="Added in this range.")


@strawberry.input(description="Filters for variants; all given conditions must hold (use OR for any).")
class ProductVariantWhere(ChangedSince):
    and_: list[ProductVariantWhere] | None = strawberry.field(default=None, name="AND", description="All of these.")
    or_: list[ProductVariantWhere] | None = strawberry.field(default=None, name="OR", description="Any of these.")
    search: StringFilter | None = strawberry.field(
        default=None, description="`contains`: in the title, SKU or barcode; `eq`/`in`: the SKU or barcode exactly."
    )
    sku: StringFilter | None = strawberry.field(default=None, description="By SKU.")
    barcode: StringFilter | None = strawberry.field(default=None, description="By barcode.")
    product: IDFilter | None = strawberry.field(default=None, description="Variants of this product.")
    is_active: bool | None = strawberry.field(default=None, description="true: on sale; false: archived.")


@strawberry.input(description="Filters for stock movements; all given conditions must hold.")
class StockMovementWhere:
    variant: IDFilter | None = strawberry.field(default=None, description="Of this variant.")
    warehouse: IDFilter | None = strawberry.field(default=None, description="In this warehouse.")
    order: IDFilter | None = strawberry.field(default=None, description="Made by this order's status changes.")
    created_at: DateTimeFilter | None = strawberry.field(default=None, description="Made in this range.")


def _decoder(type_name: str):
    return lambda v: ids.decode(v, type_name)[1]


def _bool(path: str):
    return lambda value: Q(**{path: value})


def _variant_search(scope, f: StringFilter, *, prefix: str = "") -> Q:
    """Search on variants: ``contains`` in title, SKU or barcode; ``eq``/``in`` SKU or barcode exactly."""
    parts = []
    exact = [f.eq] if f.eq is not None else []
    exact += list(f.in_ or [])
    if exact:
        parts.append(Q(**{f"{prefix}sku__in": exact}) | Q(**{f"{prefix}barcode__in": exact}))
    if f.contains is not None:
        c = f.contains
        parts.append(
            Q(**{f"{prefix}sku__icontains": c})
            | Q(**{f"{prefix}barcode__icontains": c})
            | Q(**{f"{prefix}title__icontains": c})
        )
    return Q(*parts) if parts else Q()


def _product_lookups(scope) -> dict[str, Lookup]:
    def of_variants(q: Q) -> Q:
        return Q(
            id__in=Subquery(ProductVariant.filter(Q(organization_id=scope.organization_id), q).values("product_id"))
        )

    def search(f: StringFilter) -> Q:
        q = of_variants(_variant_search(scope, StringFilter(eq=f.eq, in_=f.in_, contains=f.contains)))
        if f.contains is not None:
            q = q | Q(title__icontains=f.contains)
        return q

    def sku(f: StringFilter) -> Q:
        parts = []
        if f.eq is not None:
            parts.append(Q(sku=f.eq))
        if f.in_:
            parts.append(Q(sku__in=list(f.in_)))
        if f.contains is not None:
            parts.append(Q(sku__icontains=f.contains))
        return of_variants(Q(*parts)) if parts else Q()

    return {
        "search": Lookup("title", build=search),
        "sku": Lookup("title", build=sku),
        "category": Lookup("category_id", convert=_decoder("ProductCategory")),
        "is_active": Lookup("is_active", build=_bool("is_active")),
        "created_at": Lookup("created_at"),
    }


VARIANT_LOOKUPS = {
    "sku": Lookup("sku"),
    "barcode": Lookup("barcode"),
    "product": Lookup("product_id", convert=_decoder("Product")),
    "is_active": Lookup("is_active", build=_bool("is_active")),
}

MOVEMENT_LOOKUPS = {
    "variant": Lookup("variant_id", convert=_decoder("ProductVariant")),
    "warehouse": Lookup("warehouse_id", convert=_decoder("Warehouse")),
    "order": Lookup("order_id", convert=_decoder("Order")),
    "created_at": Lookup("created_at"),
}


@strawberry.enum(description="What to sort products by.")
class ProductOrderField(Enum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    TITLE = "title"


@strawberry.input(description="How to sort products.")
class ProductOrder:
    field: ProductOrderField = strawberry.field(default=ProductOrderField.TITLE, description="The sort key.")
    direction: Direction = strawberry.field(default=Direction.ASC, description="Ascending or descending.")


@strawberry.enum(description="What to sort variants by.")
class ProductVariantOrderField(Enum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    SKU = "sku"
    TITLE = "title"


@strawberry.input(description="How to sort variants.")
class ProductVariantOrder:
    field: ProductVariantOrderField = strawberry.field(
        default=ProductVariantOrderField.SKU, description="The sort key."
    )
    direction: Direction = strawberry.field(default=Direction.ASC, description="Ascending or descending.")


SORT_KINDS = {"created_at": datetime, "updated_at": datetime, "title": str, "sku": str}


@strawberry.type
class CatalogQueries:
    @strawberry.field(description="Products, filtered and sorted (by title by default).")
    async def products(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description="Page size, at most 100.")] = None,
        after: Annotated[str | None, strawberry.argument(description="The previous page's endCursor.")] = None,
        where: Annotated[ProductWhere | None, strawberry.argument(description="Filters.")] = None,
        order_by: Annotated[ProductOrder | None, strawberry.argument(description="Sort.")] = None,
    ) -> ProductConnection:
        ctx = info.context
        order_by = order_by or ProductOrder()
        qs = ctx.scope.queryset(Product).filter(build_q(where, _product_lookups(ctx.scope)))
        sort = Sort(order_by.field.value, SORT_KINDS[order_by.field.value], order_by.direction)
        first = check_first(first, ctx.settings.default_page_size, ctx.settings.max_page_size)
        return await paginate(ProductConnection, qs, first=first, after=after, sort=sort)

    @strawberry.field(description="One product, or null if not found.")
    async def product(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The product's ID.")]
    ) -> ProductType | None:
        return await load_by_id(info.context, Product, ids.decode(id, "Product")[1])

    @strawberry.field(description="Variants (SKUs), filtered and sorted (by SKU by default): an order line picker.")
    async def product_variants(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description="Page size, at most 100.")] = None,
        after: Annotated[str | None, strawberry.argument(description="The previous page's endCursor.")] = None,
        where: Annotated[ProductVariantWhere | None, strawberry.argument(description="Filters.")] = None,
        order_by: Annotated[ProductVariantOrder | None, strawberry.argument(description="Sort.")] = None,
    ) -> ProductVariantConnection:
        ctx = info.context
        order_by = order_by or ProductVariantOrder()
        lookups = {**VARIANT_LOOKUPS, "search": Lookup("sku", build=lambda f: _variant_search(ctx.scope, f))}
        qs = ctx.scope.queryset(ProductVariant).filter(build_q(where, lookups))
        sort = Sort(order_by.field.value, SORT_KINDS[order_by.field.value], order_by.direction)
        first = check_first(first, ctx.settings.default_page_size, ctx.settings.max_page_size)
        return await paginate(ProductVariantConnection, qs, first=first, after=after, sort=sort)

    @strawberry.field(description="One variant, or null if not found.")
    async def product_variant(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The variant's ID.")]
    ) -> ProductVariantType | None:
        return await load_by_id(info.context, ProductVariant, ids.decode(id, "ProductVariant")[1])

    @strawberry.field(description="Every product category, in display order (build the tree from `parent`).")
    async def product_categories(self, info: Info) -> list[ProductCategoryType]:
        return await info.context.scope.queryset(ProductCategory).order_by("position", "name", "id")

    @strawberry.field(description="The organization's warehouses, in reservation order.")
    async def warehouses(self, info: Info) -> list[WarehouseType]:
        return await info.context.scope.queryset(Warehouse).order_by("position", "code")

    @strawberry.field(description="The history of stock levels, newest first.")
    async def stock_movements(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description="Page size, at most 100.")] = None,
        after: Annotated[str | None, strawberry.argument(description="The previous page's endCursor.")] = None,
        where: Annotated[StockMovementWhere | None, strawberry.argument(description="Filters.")] = None,
    ) -> StockMovementConnection:
        ctx = info.context
        qs = ctx.scope.queryset(StockMovement).filter(build_q(where, MOVEMENT_LOOKUPS))
        first = check_first(first, ctx.settings.default_page_size, ctx.settings.max_page_size)
        return await paginate(
            StockMovementConnection, qs, first=first, after=after, sort=Sort("created_at", datetime, Direction.DESC)
        )

    @strawberry.field(description="The organization's stock rule (backorders).")
    async def catalog_settings(self, info: Info) -> CatalogSettingsType:
        row = await service.get_settings(info.context.scope)
        return CatalogSettingsType(allow_backorders=row.allow_backorders)


# -- mutations -----------------------------------------------------------------------------------


@strawberry.input(description="A variant's values. On create, `sku` and `price` are required.")
class ProductVariantInput:
    sku: str | None = strawberry.field(default=strawberry.UNSET, description="Unique in the organization.")
    barcode: str | None = strawberry.field(default=strawberry.UNSET, description="EAN/UPC or the shop's own.")
    title: str | None = strawberry.field(default=strawberry.UNSET, description="Defaults to the product's title.")
    price: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description="Price of one unit, 2 decimals at most."
    )
    currency: str | None = strawberry.field(
        default=strawberry.UNSET, description="ISO 4217; defaults to the organization's."
    )
    cost: Decimal | None = strawberry.field(default=strawberry.UNSET, description="What one unit costs the shop.")
    weight_grams: int | None = strawberry.field(default=strawberry.UNSET, description="Grams per unit.")
    length_mm: int | None = strawberry.field(default=strawberry.UNSET, description="Package length, millimetres.")
    width_mm: int | None = strawberry.field(default=strawberry.UNSET, description="Package width, millimetres.")
    height_mm: int | None = strawberry.field(default=strawberry.UNSET, description="Package height, millimetres.")
    photos: list[str] | None = strawberry.field(default=strawberry.UNSET, description="Photo links (replaces them).")
    low_stock_threshold: Decimal | None = strawberry.field(
        default=strawberry.UNSET, description="Send `catalog.low_stock` when available drops below it; null: never."
    )
    position: int | None = strawberry.field(default=strawberry.UNSET, description="Display order.")


@strawberry.input(description="A new product with its variants.")
class CreateProductInput:
    title: str = strawberry.field(description="The product's name.")
    variants: list[ProductVariantInput] = strawberry.field(description="At least one; each with its SKU and price.")
    description: str | None = strawberry.field(default=None, description="Free text.")
    category_id: strawberry.ID | None = strawberry.field(default=None, description="Its category.")
    photos: list[str] | None = strawberry.field(default=None, description="Photo links.")
    idempotency_key: str | None = strawberry.field(
        default=None, description="Retrying with the same key returns the first result."
    )


@strawberry.input(description="Changes to a product; fields left out stay as they are.")
class UpdateProductInput:
    id: strawberry.ID = strawberry.field(description="The product.")
    version: int = strawberry.field(description="The version you read.")
    title: str | None = strawberry.field(default=strawberry.UNSET, description="The product's name.")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="Free text.")
    category_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Its category; null: none."
    )
    photos: list[str] | None = strawberry.field(default=strawberry.UNSET, description="Photo links (replaces them).")
    is_active: bool | None = strawberry.field(
        default=strawberry.UNSET, description="false archives it, true brings it back."
    )


@strawberry.input(description="Archive a product: it stays in history, its variants leave new order lines.")
class ArchiveProductInput:
    id: strawberry.ID = strawberry.field(description="The product.")
    version: int = strawberry.field(description="The version you read.")


@strawberry.input(description="A new variant of an existing product.")
class CreateProductVariantInput(ProductVariantInput):
    product_id: strawberry.ID = strawberry.field(description="The product.")


@strawberry.input(description="Changes to a variant; fields left out stay as they are.")
class UpdateProductVariantInput(ProductVariantInput):
    id: strawberry.ID = strawberry.field(description="The variant.")
    version: int = strawberry.field(description="The version you read.")
    is_active: bool | None = strawberry.field(
        default=strawberry.UNSET, description="false archives it, true brings it back."
    )


@strawberry.input(description="A new category.")
class CreateProductCategoryInput:
    name: str = strawberry.field(description="What people see.")
    parent_id: strawberry.ID | None = strawberry.field(default=None, description="The category it sits in.")
    position: int = strawberry.field(default=0, description="Display order.")


@strawberry.input(description="Changes to a category; fields left out stay as they are.")
class UpdateProductCategoryInput:
    id: strawberry.ID = strawberry.field(description="The category.")
    version: int = strawberry.field(description="The version you read.")
    name: str | None = strawberry.field(default=strawberry.UNSET, description="What people see.")
    parent_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET, description="Its parent; null: top level."
    )
    position: int | None = strawberry.field(default=strawberry.UNSET, description="Display order.")


@strawberry.input(description="A new warehouse.")
class CreateWarehouseInput:
    name: str = strawberry.field(description="What people see.")
    code: str = strawberry.field(description="A short unique code.")
    position: int = strawberry.field(default=0, description="Reservation order: lowest first.")


@strawberry.input(description="Changes to a warehouse; fields left out stay as they are.")
class UpdateWarehouseInput:
    id: strawberry.ID = strawberry.field(description="The warehouse.")
    version: int = strawberry.field(description="The version you read.")
    name: str | None = strawberry.field(default=strawberry.UNSET, description="What people see.")
    position: int | None = strawberry.field(default=strawberry.UNSET, description="Reservation order: lowest first.")
    is_active: bool | None = strawberry.field(default=strawberry.UNSET, description="false: not reserved from.")


@strawberry.input(description="Receive, write off or count a variant's stock in a warehouse.")
class AdjustStockInput:
    variant_id: strawberry.ID = strawberry.field(description="The variant.")
    warehouse_id: strawberry.ID = strawberry.field(description="The warehouse.")
    kind: StockAdjustmentKind = strawberry.field(description="What happened.")
    quantity: Decimal = strawberry.field(description="Units, up to 3 decimals: received, written off, or counted.")
    reason: str | None = strawberry.field(
        default=None, description="Why, e.g. a supplier's invoice number or `damaged`."
    )


@strawberry.input(description="The organization's stock rule.")
class SetCatalogSettingsInput:
    allow_backorders: bool = strawberry.field(description="true: orders may be confirmed with too little stock.")


@strawberry.type(description="The result of a product mutation.")
class ProductPayload:
    product: ProductType | None = strawberry.field(default=None, description="The product after the change.")
    errors: list[UserError] = strawberry.field(description="What was wrong, all at once; empty on success.")


@strawberry.type(description="The result of a variant mutation.")
class ProductVariantPayload:
    variant: ProductVariantType | None = strawberry.field(default=None, description="The variant after the change.")
    errors: list[UserError] = strawberry.field(description="What was wrong, all at once; empty on success.")


@strawberry.type(description="The result of a category mutation.")
class ProductCategoryPayload:
    category: ProductCategoryType | None = strawberry.field(default=None, description="The category after the change.")
    errors: list[UserError] = strawberry.field(description="What was wrong, all at once; empty on success.")


@strawberry.type(description="The result of a warehouse mutation.")
class WarehousePayload:
    warehouse: WarehouseType | None = strawberry.field(default=None, description="The warehouse after the change.")
    errors: list[UserError] = strawberry.field(description="What was wrong, all at once; empty on success.")


@strawberry.type(description="The result of a stock adjustment.")
class AdjustStockPayload:
    movement: StockMovementType | None = strawberry.field(default=None, description="The movement recorded.")
    variant: ProductVariantType | None = strawberry.field(default=None, description="The variant after it.")
    errors: list[UserError] = strawberry.field(description="What was wrong, all at once; empty on success.")


@strawberry.type(description="The result of changing the stock rule.")
class CatalogSettingsPayload:
    settings: CatalogSettingsType | None = strawberry.field(default=None, description="The rule after the change.")
    errors: list[UserError] = strawberry.field(description="What was wrong; empty on success.")


def _variant_data(input_obj) -> dict:
    return given(input_obj, exclude=("id", "version", "product_id"))


@strawberry.type
class CatalogMutations:
    @strawberry.mutation(description="Add a product with its variants.")
    async def create_product(self, info: Info, input: CreateProductInput) -> ProductPayload:
        scope = info.context.scope

        async def act():
            data = {
                "title": input.title,
                "description": input.description,
                "category_id": ids.decode_pk(input.category_id, "ProductCategory", "categoryId"),
                "photos": input.photos or [],
                "variants": [_variant_data(v) for v in input.variants],
            }
            return {"product": await service.create_product(scope, data, input.idempotency_key)}

        return await run_mutation(ProductPayload, act)

    @strawberry.mutation(description="Change a product (title, description, category, photos, archived or not).")
    async def update_product(self, info: Info, input: UpdateProductInput) -> ProductPayload:
        scope = info.context.scope

        async def act():
            data = given(input, id_fields={"category_id": "ProductCategory"})
            pk = ids.decode(input.id, "Product")[1]
            return {"product": await service.update_product(scope, pk, input.version, data)}

        return await run_mutation(ProductPayload, act)

    @strawberry.mutation(description="Archive a product: kept for history, its variants cannot go on new order lines.")
    async def archive_product(self, info: Info, input: ArchiveProductInput) -> ProductPayload:
        scope = info.context.scope

        async def act():
            pk = ids.decode(input.id, "Product")[1]
            return {"product": await service.update_product(scope, pk, input.version, {"is_active": False})}

        return await run_mutation(ProductPayload, act)

    @strawberry.mutation(description="Add a variant (SKU) to a product.")
    async def create_product_variant(self, info: Info, input: CreateProductVariantInput) -> ProductVariantPayload:
        scope = info.context.scope

        async def act():
            product = ids.decode(input.product_id, "Product", "productId")[1]
            return {"variant": await service.create_variant(scope, product, _variant_data(input))}

        return await run_mutation(ProductVariantPayload, act)

    @strawberry.mutation(description="Change a variant; `isActive: false` archives it.")
    async def update_product_variant(self, info: Info, input: UpdateProductVariantInput) -> ProductVariantPayload:
        scope = info.context.scope

        async def act():
            pk = ids.decode(input.id, "ProductVariant")[1]
            return {"variant": await service.update_variant(scope, pk, input.version, _variant_data(input))}

        return await run_mutation(ProductVariantPayload, act)

    @strawberry.mutation(description="Add a product category.")
    async def create_product_category(self, info: Info, input: CreateProductCategoryInput) -> ProductCategoryPayload:
        scope = info.context.scope

        async def act():
            data = given(input, id_fields={"parent_id": "ProductCategory"})
            return {"category": await service.create_category(scope, data)}

        return await run_mutation(ProductCategoryPayload, act)

    @strawberry.mutation(description="Rename, move or reorder a product category.")
    async def update_product_category(self, info: Info, input: UpdateProductCategoryInput) -> ProductCategoryPayload:
        scope = info.context.scope

        async def act():
            data = given(input, id_fields={"parent_id": "ProductCategory"})
            pk = ids.decode(input.id, "ProductCategory")[1]
            return {"category": await service.update_category(scope, pk, input.version, data)}

        return await run_mutation(ProductCategoryPayload, act)

    @strawberry.mutation(description="Add a warehouse.")
    async def create_warehouse(self, info: Info, input: CreateWarehouseInput) -> WarehousePayload:
        scope = info.context.scope

        async def act():
            return {"warehouse": await service.create_warehouse(scope, given(input))}

        return await run_mutation(WarehousePayload, act)

    @strawberry.mutation(description="Rename, reorder, deactivate or reactivate a warehouse.")
    async def update_warehouse(self, info: Info, input: UpdateWarehouseInput) -> WarehousePayload:
        scope = info.context.scope

        async def act():
            pk = ids.decode(input.id, "Warehouse")[1]
            return {"warehouse": await service.update_warehouse(scope, pk, input.version, given(input))}

        return await run_mutation(WarehousePayload, act)

    @strawberry.mutation(description="Receive, write off or count stock; recorded as a stock movement.")
    async def adjust_stock(self, info: Info, input: AdjustStockInput) -> AdjustStockPayload:
        scope = info.context.scope

        async def act():
            variant = ids.decode(input.variant_id, "ProductVariant", "variantId")[1]
            warehouse = ids.decode(input.warehouse_id, "Warehouse", "warehouseId")[1]
            movement = await service.adjust_stock(
                scope, variant, warehouse, input.kind.value, input.quantity, input.reason
            )
            return {"movement": movement, "variant": await ProductVariant.get(id=variant)}

        return await run_mutation(AdjustStockPayload, act)

    @strawberry.mutation(description="Admins: may orders be confirmed with too little stock (backorders)?")
    async def set_catalog_settings(self, info: Info, input: SetCatalogSettingsInput) -> CatalogSettingsPayload:
        scope = info.context.scope

        async def act():
            row: CatalogSettings = await service.set_settings(scope, input.allow_backorders)
            return {"settings": CatalogSettingsType(allow_backorders=row.allow_backorders)}

        return await run_mutation(CatalogSettingsPayload, act)


def order_margin(info: Info, order, items) -> Money | None:
    """Σ (line total − unit cost × quantity) over the order's catalog lines with a known cost."""
    require_visible(info, "Order", "margin")
    costed = [it for it in items if it.unit_cost is not None]
    if not costed:
        return None
    from server.core.money import quantize

    margin = sum((it.total - quantize(it.unit_cost * it.quantity) for it in costed), Decimal("0.00"))
    return Money(amount=margin, currency=order.currency)
