"""The catalog and stock: categories, products, variants, warehouses, stock adjustments, and
the reservations an order's status holds. The only writer of server/catalog/models.py.

Who may do what (the roles table in server/auth/roles.py decides; nothing here names a role):
reading needs ``catalog:read``; categories, products, variants and warehouses need
``catalog:create``/``catalog:update`` (archiving is an update); stock adjustments (receive,
write-off, count) need the special right ``catalog:stock``; the backorder rule needs
``catalog:update``.

**Reservations follow the order's status group** (``sync_order``, called by the orders
service in the transaction of the status change or of an item change):

============  ==========================================================================
group         what the order's catalog lines hold
============  ==========================================================================
new           nothing (a new order is not confirmed yet)
in_progress   reserved: ``reserved`` grows, ``available`` shrinks
shipping,     shipped: written off (``on hand`` and ``reserved`` both shrink); final,
completed     whatever the order does next
cancelled     released (what was shipped stays written off: a return is received back
              with a ``receive`` adjustment, after someone has looked at the parcel)
============  ==========================================================================

The state is kept per order, variant and warehouse (``StockReservation``), and ``sync_order``
moves it from what it is to what the status wants, so calling it twice changes nothing. A line
is reserved in the first active warehouse (by position) that has its whole quantity available.
Not enough anywhere: the change is refused with an ``OUT_OF_STOCK`` error per short line, all at
once, unless the organization allows backorders (then the first warehouse goes below zero).

No oversell: the stock levels of the order's variants are read ``FOR UPDATE`` (in id order, so
two orders never wait for each other in a circle) before anything is decided; on SQLite every
writing transaction already holds the database's write lock (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.audit import service as audit
from server.auth.scope import Scope
from server.catalog.models import (
    CatalogSettings,
    PriceChange,
    Product,
    ProductCategory,
    ProductVariant,
    StockLevel,
    StockMovement,
    StockReservation,
    Warehouse,
)
from server.core import idempotency, outbox
from server.core.errors import ErrorCode, Problems, UserInputError, not_found
from server.core.money import check_currency, parse_amount
from server.core.serialize import jsonable, snapshot
from server.core.text import limited_text, required_text
from server.core.text import position as check_position
from server.core.versioning import update_versioned
from server.i18n import _

ZERO = Decimal("0.000")
MAX_QUANTITY = Decimal("1000000000")
MAX_PHOTOS = 20
MAX_VARIANTS = 100
MAX_DIMENSION = 10_000_000  # grams or millimetres
SKU_RE = re.compile(r"^[^\s].{0,63}$")
# What each order status group wants of the order's catalog lines (see the module docstring).
GROUP_STATE = {
    "new": None,
    "in_progress": "active",
    "shipping": "shipped",
    "completed": "shipped",
    "cancelled": "released",
}

PRODUCT_FIELDS = ["title", "description", "category_id", "photos", "is_active"]
VARIANT_FIELDS = [
    "sku",
    "barcode",
    "title",
    "price",
    "currency",
    "cost",
    "weight_grams",
    "length_mm",
    "width_mm",
    "height_mm",
    "photos",
    "is_active",
    "low_stock_threshold",
    "position",
]


# -- checking input ------------------------------------------------------------------------------


def quantity(value: object, field: str, *, allow_zero: bool = False) -> Decimal:
    """A stock quantity: at most 3 decimals, positive (or zero when ``allow_zero``)."""
    try:
        q = Decimal(str(value))
    except ArithmeticError:
        q = Decimal("NaN")
    if not q.is_finite() or q < 0 or (q == 0 and not allow_zero) or q.as_tuple().exponent < -3:  # type: ignore[operator]
        raise UserInputError(ErrorCode.INVALID, _("Quantity must be positive, at most 3 decimals."), field)
    if q >= MAX_QUANTITY:
        raise UserInputError(ErrorCode.INVALID, _("Quantity must be at most %(n)s.", n=MAX_QUANTITY - 1), field)
    return q


def _photos(value: list[str], field: str, problems: Problems) -> list[str]:
    if len(value) > MAX_PHOTOS:
        problems.add(ErrorCode.INVALID, _("At most %(n)s photos.", n=MAX_PHOTOS), field)
        return []
    out = []
    for i, link in enumerate(value):
        with problems:
            text = required_text(link, f"{field}.{i}", 2000)
            if not text.startswith(("https://", "http://")) or " " in text:
                raise UserInputError(ErrorCode.INVALID, _("A photo is a link starting with https://."), f"{field}.{i}")
            out.append(text)
    return out


def _dimension(value: int | None, field: str) -> int | None:
    if value is not None and not 0 <= value <= MAX_DIMENSION:
        raise UserInputError(
            ErrorCode.INVALID, _("%(field)s must be between 0 and %(n)s.", field=field, n=MAX_DIMENSION), field
        )
    return value


def _clean_variant(data: dict, problems: Problems, prefix: str = "") -> dict:
    """The variant values to store from ``data`` (only the keys given)."""
    values: dict = {}
    if "sku" in data:
        with problems:
            sku = required_text(data["sku"], f"{prefix}sku", 64)
            if not SKU_RE.match(sku):
                raise UserInputError(ErrorCode.INVALID, _("A SKU is one line of text."), f"{prefix}sku")
            values["sku"] = sku
    if "barcode" in data:
        with problems:
            values["barcode"] = limited_text(data["barcode"], f"{prefix}barcode", 64) or None
    if "title" in data:
        with problems:
            values["title"] = required_text(data["title"], f"{prefix}title", 300)
    if "price" in data:
        with problems:
            if data["price"] is None:
                raise UserInputError(ErrorCode.REQUIRED, _("%(field)s is required.", field="price"), f"{prefix}price")
            values["price"] = parse_amount(data["price"], f"{prefix}price")
    if data.get("currency") is not None:
        with problems:
            values["currency"] = check_currency(data["currency"], f"{prefix}currency")
    if "cost" in data:
        with problems:
            values["cost"] = None if data["cost"] is None else parse_amount(data["cost"], f"{prefix}cost")
    for name in ("weight_grams", "length_mm", "width_mm", "height_mm"):
        if name in data:
            with problems:
                values[name] = _dimension(data[name], prefix + _camel(name))
    if data.get("photos") is not None:
        values["photos"] = _photos(data["photos"], f"{prefix}photos", problems)
    if data.get("is_active") is not None:
        values["is_active"] = bool(data["is_active"])
    if "low_stock_threshold" in data:
        with problems:
            threshold = data["low_stock_threshold"]
            values["low_stock_threshold"] = (
                None if threshold is None else quantity(threshold, f"{prefix}lowStockThreshold", allow_zero=True)
            )
    if data.get("position") is not None:
        with problems:
            values["position"] = check_position(data["position"], f"{prefix}position")
    return values


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


async def _check_category(scope: Scope, category_id: UUID | None, field: str = "categoryId") -> None:
    if category_id is not None and not await scope.queryset(ProductCategory).filter(id=category_id).exists():
        raise not_found("ProductCategory", field)


async def _sku_taken(organization_id: UUID, skus: list[str], except_id: UUID | None = None) -> set[str]:
    qs = ProductVariant.filter(organization_id=organization_id, sku__in=skus)
    if except_id is not None:
        qs = qs.exclude(id=except_id)
    return set(await qs.values_list("sku", flat=True))


# -- price history -------------------------------------------------------------------------------

# What a variant's money was: (currency, price, cost); None for a variant being created.
Prices = tuple[str, Decimal | None, Decimal | None]


def prices_of(variant: ProductVariant) -> Prices:
    return variant.currency, variant.price, variant.cost


def price_source(scope: Scope) -> tuple[str, UUID | None]:
    """Where a change came from, as far as the caller tells: ``manual`` (a member, in the CRM),
    ``api`` (an API key or a partner app, also one acting for a member), ``system`` (the CRM's own
    work); and the member who made it (null for keys and apps acting for themselves)."""
    principal = scope.principal
    if principal.kind == "user":
        return ("api" if principal.via else "manual"), scope.user_id
    if principal.kind == "app" and (principal.id or "").startswith(("apikey:", "oauth:")):
        return "api", None
    return "system", None


async def record_prices(scope: Scope, changed: list[tuple[ProductVariant, Prices | None]]) -> None:
    """The one road every price and cost write takes into the price history, called inside the
    write's transaction with each variant as it is now and its money before the write (None:
    just created). A row per currency whose price or cost really changed; none otherwise."""
    source, user_id = price_source(scope)
    now = datetime.now(UTC)
    rows = []

    def row(variant, currency, old_price, new_price, old_cost, new_cost, at=now):
        rows.append(
            PriceChange(
                organization_id=scope.organization_id,
                variant_id=variant.id,
                currency=currency,
                old_price=old_price,
                new_price=new_price,
                old_cost=old_cost,
                new_cost=new_cost,
                price_changed=old_price != new_price,
                changed_by_id=user_id,
                source=source,
                created_at=at,
            )
        )

    for variant, before in changed:
        currency, price, cost = prices_of(variant)
        if before is None:
            row(variant, currency, None, price, None, cost)
            continue
        old_currency, old_price, old_cost = before
        if old_currency != currency:
            # Other money: the old currency's numbers end, the new one's begin (a microsecond
            # later, so newest first shows the new currency first).
            row(variant, old_currency, old_price, None, old_cost, None)
            row(variant, currency, None, price, None, cost, now + timedelta(microseconds=1))
        elif old_price != price or old_cost != cost:
            row(variant, currency, old_price, price, old_cost, cost)
    if rows:
        await PriceChange.bulk_create(rows)


# -- categories ----------------------------------------------------------------------------------


async def create_category(scope: Scope, data: dict) -> ProductCategory:
    scope.require("catalog:create")
    problems = Problems()
    name = position = None
    with problems:
        name = required_text(data.get("name"), "name", 200)
    with problems:
        position = check_position(data.get("position") or 0)
    with problems:
        await _check_category(scope, data.get("parent_id"), "parentId")
    problems.raise_if_any()
    async with in_transaction():
        category = await ProductCategory.create(
            organization_id=scope.organization_id, name=name, parent_id=data.get("parent_id"), position=position
        )
        await audit.record(scope, "category.create", category, {"name": [None, name]})
        await outbox.emit(scope.organization_id, "catalog.category_created", {"category_id": category.id, "name": name})
    return category


async def update_category(scope: Scope, category_id: UUID, version: int, data: dict) -> ProductCategory:
    problems = Problems()
    values: dict = {}
    if "name" in data:
        with problems:
            values["name"] = required_text(data["name"], "name", 200)
    if data.get("position") is not None:
        with problems:
            values["position"] = check_position(data["position"])
    problems.raise_if_any()
    async with in_transaction():
        category = await scope.get(ProductCategory, category_id, "update", field="id")
        if "parent_id" in data:
            parent_id = data["parent_id"]
            await _check_category(scope, parent_id, "parentId")
            # A category cannot sit under itself or under one of its own subcategories.
            ancestor = parent_id
            while ancestor is not None:
                if ancestor == category.id:
                    raise UserInputError(ErrorCode.INVALID, _("A category cannot be placed inside itself."), "parentId")
                ancestor = (await ProductCategory.filter(id=ancestor).values_list("parent_id", flat=True))[0]
            values["parent_id"] = parent_id
        changes = await update_versioned(category, version, values)
        if changes:
            await audit.record(scope, "category.update", category, changes)
            await outbox.emit(
                scope.organization_id,
                "catalog.category_updated",
                {"category_id": category.id, "fields": sorted(changes)},
            )
    return category


# -- products and variants -----------------------------------------------------------------------


async def create_product(scope: Scope, data: dict, idempotency_key: str | None = None) -> Product:
    """A product with its variants (``data["variants"]``, at least one)."""
    scope.require("catalog:create")
    problems = Problems()
    with problems:
        idempotency.check_key(idempotency_key)
    values: dict = {}
    with problems:
        values["title"] = required_text(data.get("title"), "title", 300)
    with problems:
        values["description"] = limited_text(data.get("description"), "description", 20_000) or ""
    values["photos"] = _photos(data.get("photos") or [], "photos", problems)
    values["is_active"] = True
    with problems:
        await _check_category(scope, data.get("category_id"))
    values["category_id"] = data.get("category_id")
    raw_variants = data.get("variants") or []
    if not raw_variants:
        problems.add(ErrorCode.REQUIRED, _("A product needs at least one variant."), "variants")
    elif len(raw_variants) > MAX_VARIANTS:
        problems.add(ErrorCode.INVALID, _("A product has at most %(n)s variants.", n=MAX_VARIANTS), "variants")
        raw_variants = []
    variants = []
    for i, raw in enumerate(raw_variants):
        prefix = f"variants.{i}."
        defaults = {"title": values["title"]} if "title" in values else {}
        raw = {**defaults, "position": i, **{k: v for k, v in raw.items() if v is not None}}
        for name in ("sku", "price"):
            raw.setdefault(name, None)
        variant = _clean_variant(raw, problems, prefix)
        variant.setdefault("currency", scope.organization.currency)
        variants.append(variant)
    skus = [v["sku"] for v in variants if "sku" in v]
    for i, sku in enumerate(skus):
        if sku in skus[:i]:
            problems.add(ErrorCode.DUPLICATE, _("SKU %(sku)s is given twice.", sku=sku), f"variants.{i}.sku")
    problems.raise_if_any()

    async def create() -> Product:
        taken = await _sku_taken(scope.organization_id, skus)
        if taken:
            raise _sku_errors(taken, skus)
        product = await Product.create(organization_id=scope.organization_id, **values)
        rows = [ProductVariant(organization_id=scope.organization_id, product_id=product.id, **v) for v in variants]
        await ProductVariant.bulk_create(rows)
        await record_prices(scope, [(row, None) for row in rows])
        await audit.record(
            scope,
            "product.create",
            product,
            {**{k: [None, v] for k, v in snapshot(product, PRODUCT_FIELDS).items()}, "variants": [None, skus]},
        )
        await outbox.emit(
            scope.organization_id,
            "catalog.product_created",
            {"product_id": product.id, "title": product.title, "skus": skus},
        )
        return product

    try:
        return await idempotency.create_once(
            scope.organization_id,
            "createProduct",
            idempotency_key,
            create,
            lambda pk: scope.get(Product, pk),
            request=data,
        )
    except IntegrityError:  # two products with one new SKU at once: the second loses
        raise _sku_errors(set(skus), skus) from None


def _sku_errors(taken: set[str], skus: list[str]) -> UserInputError:
    problems = Problems()
    for i, sku in enumerate(skus):
        if sku in taken:
            problems.add(ErrorCode.DUPLICATE, _("SKU %(sku)s is already in the catalog.", sku=sku), f"variants.{i}.sku")
    try:
        problems.raise_if_any()
    except UserInputError as exc:
        return exc
    return UserInputError(ErrorCode.DUPLICATE, _("SKU is already in the catalog."), "sku")


async def update_product(scope: Scope, product_id: UUID, version: int, data: dict) -> Product:
    """Title, description, category, photos; ``is_active: false`` archives it (its variants
    cannot be put on new order lines), ``true`` brings it back."""
    problems = Problems()
    values: dict = {}
    if "title" in data:
        with problems:
            values["title"] = required_text(data["title"], "title", 300)
    if "description" in data:
        with problems:
            values["description"] = limited_text(data["description"], "description", 20_000) or ""
    if data.get("photos") is not None:
        values["photos"] = _photos(data["photos"], "photos", problems)
    if data.get("is_active") is not None:
        values["is_active"] = bool(data["is_active"])
    if "category_id" in data:
        with problems:
            await _check_category(scope, data["category_id"])
        values["category_id"] = data["category_id"]
    problems.raise_if_any()
    async with in_transaction():
        product = await scope.get(Product, product_id, "update", field="id")
        changes = await update_versioned(product, version, values)
        if changes:
            action = "product.archive" if changes.get("is_active") == [True, False] else "product.update"
            await audit.record(scope, action, product, changes)
            topic = "catalog.product_archived" if action == "product.archive" else "catalog.product_updated"
            await outbox.emit(scope.organization_id, topic, {"product_id": product.id, "fields": sorted(changes)})
    return product


async def create_variant(scope: Scope, product_id: UUID, data: dict) -> ProductVariant:
    scope.require("catalog:create")
    problems = Problems()
    for name in ("sku", "price"):
        data.setdefault(name, None)
    values = _clean_variant({k: v for k, v in data.items() if v is not None or k in ("sku", "price")}, problems)
    problems.raise_if_any()
    try:
        return await _create_variant(scope, product_id, values)
    except IntegrityError:  # the same new SKU twice at once: the second loses
        raise UserInputError(
            ErrorCode.DUPLICATE, _("SKU %(sku)s is already in the catalog.", sku=values["sku"]), "sku"
        ) from None


async def _create_variant(scope: Scope, product_id: UUID, values: dict) -> ProductVariant:
    async with in_transaction():
        product = await scope.get(Product, product_id, field="productId")
        values.setdefault("title", product.title)
        values.setdefault("currency", scope.organization.currency)
        if "position" not in values:
            values["position"] = await ProductVariant.filter(product_id=product.id).count()
        if await _sku_taken(scope.organization_id, [values["sku"]]):
            raise UserInputError(
                ErrorCode.DUPLICATE, _("SKU %(sku)s is already in the catalog.", sku=values["sku"]), "sku"
            )
        variant = await ProductVariant.create(organization_id=scope.organization_id, product_id=product.id, **values)
        await record_prices(scope, [(variant, None)])
        await audit.record(
            scope, "variant.create", variant, {k: [None, v] for k, v in snapshot(variant, VARIANT_FIELDS).items()}
        )
        await outbox.emit(
            scope.organization_id,
            "catalog.variant_created",
            {"variant_id": variant.id, "product_id": product.id, "sku": variant.sku},
        )
    return variant


async def update_variant(scope: Scope, variant_id: UUID, version: int, data: dict) -> ProductVariant:
    """Any variant field; ``is_active: false`` archives it."""
    problems = Problems()
    values = _clean_variant(data, problems)
    problems.raise_if_any()
    try:
        return await _update_variant(scope, variant_id, version, values)
    except IntegrityError:  # the same new SKU given to two variants at once: the second loses
        raise UserInputError(
            ErrorCode.DUPLICATE, _("SKU %(sku)s is already in the catalog.", sku=values.get("sku", "")), "sku"
        ) from None


def _new_currency_problems(variant: ProductVariant, values: dict) -> None:
    """A price and a cost are amounts in the variant's currency: a new currency needs them
    restated in it, or the same numbers would silently mean other money."""
    if values.get("currency", variant.currency) == variant.currency:
        return
    problems = Problems()
    if "price" not in values:
        problems.add(ErrorCode.REQUIRED, _("A new currency needs the price in that currency."), "price")
    if variant.cost is not None and "cost" not in values:
        problems.add(ErrorCode.REQUIRED, _("A new currency needs the cost in that currency."), "cost")
    problems.raise_if_any()


async def _update_variant(scope: Scope, variant_id: UUID, version: int, values: dict) -> ProductVariant:
    async with in_transaction():
        variant = await scope.get(ProductVariant, variant_id, "update", field="id")
        _new_currency_problems(variant, values)
        if (
            "sku" in values
            and values["sku"] != variant.sku
            and await _sku_taken(scope.organization_id, [values["sku"]], variant.id)
        ):
            raise UserInputError(
                ErrorCode.DUPLICATE, _("SKU %(sku)s is already in the catalog.", sku=values["sku"]), "sku"
            )
        old_threshold = variant.low_stock_threshold
        before = prices_of(variant)
        changes = await update_versioned(variant, version, values)
        if changes:
            await record_prices(scope, [(variant, before)])
            action = "variant.archive" if changes.get("is_active") == [True, False] else "variant.update"
            await audit.record(scope, action, variant, changes)
            await outbox.emit(
                scope.organization_id,
                "catalog.variant_updated",
                {"variant_id": variant.id, "sku": variant.sku, "fields": sorted(changes)},
            )
            if "low_stock_threshold" in changes:
                # A threshold raised above what is available is news, as a drop below it would be:
                # "before" is what the old threshold said (at or above it, or not watched).
                now = (await _available(scope.organization_id, [variant.id]))[variant.id]
                was_low = old_threshold is not None and now < old_threshold
                await _low_stock(scope.organization_id, {variant.id: now if was_low else Decimal("1e12")}, [variant])
    return variant


# -- warehouses ----------------------------------------------------------------------------------


async def create_warehouse(scope: Scope, data: dict) -> Warehouse:
    scope.require("catalog:create")
    problems = Problems()
    values: dict = {}
    with problems:
        values["name"] = required_text(data.get("name"), "name", 200)
    with problems:
        values["code"] = required_text(data.get("code"), "code", 32).lower()
    with problems:
        values["position"] = check_position(data.get("position") or 0)
    problems.raise_if_any()
    async with in_transaction():
        if await Warehouse.filter(organization_id=scope.organization_id, code=values["code"]).exists():
            raise UserInputError(ErrorCode.DUPLICATE, _("Warehouse '%(code)s' exists.", code=values["code"]), "code")
        warehouse = await Warehouse.create(organization_id=scope.organization_id, **values)
        await audit.record(scope, "warehouse.create", warehouse, {k: [None, v] for k, v in values.items()})
        await outbox.emit(scope.organization_id, "catalog.warehouse_created", {"warehouse_id": warehouse.id, **values})
    return warehouse


async def update_warehouse(scope: Scope, warehouse_id: UUID, version: int, data: dict) -> Warehouse:
    problems = Problems()
    values: dict = {}
    if "name" in data:
        with problems:
            values["name"] = required_text(data["name"], "name", 200)
    if data.get("position") is not None:
        with problems:
            values["position"] = check_position(data["position"])
    if data.get("is_active") is not None:
        values["is_active"] = bool(data["is_active"])
    problems.raise_if_any()
    async with in_transaction():
        warehouse = await scope.get(Warehouse, warehouse_id, "update", field="id")
        changes = await update_versioned(warehouse, version, values)
        if changes:
            await audit.record(scope, "warehouse.update", warehouse, changes)
            await outbox.emit(
                scope.organization_id,
                "catalog.warehouse_updated",
                {"warehouse_id": warehouse.id, "fields": sorted(changes)},
            )
    return warehouse


# -- stock ---------------------------------------------------------------------------------------


async def _available(organization_id: UUID, variant_ids) -> dict[UUID, Decimal]:
    """Available (on hand − reserved) per variant over the active warehouses."""
    rows = await StockLevel.filter(
        organization_id=organization_id, variant_id__in=list(variant_ids), warehouse__is_active=True
    ).values_list("variant_id", "on_hand", "reserved")
    out: dict[UUID, Decimal] = defaultdict(lambda: ZERO)
    for variant_id, on_hand, reserved in rows:
        out[variant_id] += on_hand - reserved
    return out


async def _low_stock(organization_id: UUID, before: dict[UUID, Decimal], variants: list[ProductVariant]) -> None:
    """``catalog.low_stock`` for each variant whose available quantity went from at least its
    threshold to below it (one event per drop, not one per change while it stays low)."""
    watched = [v for v in variants if v.low_stock_threshold is not None]
    if not watched:
        return
    after = await _available(organization_id, [v.id for v in watched])
    for variant in watched:
        now = after[variant.id]
        if now < variant.low_stock_threshold <= before.get(variant.id, ZERO):
            await outbox.emit(
                organization_id,
                "catalog.low_stock",
                {
                    "variant_id": variant.id,
                    "product_id": variant.product_id,  # type: ignore[attr-defined]
                    "sku": variant.sku,
                    "title": variant.title,
                    "available": now,
                    "threshold": variant.low_stock_threshold,
                },
            )


async def _locked_level(organization_id: UUID, variant_id: UUID, warehouse_id: UUID) -> StockLevel:
    """The stock level row, made if missing, locked for the rest of the transaction. Two
    transactions making the same row at once: the second one's insert does nothing (it waits for
    the first on PostgreSQL) and it locks the first one's row."""
    level = await StockLevel.filter(variant_id=variant_id, warehouse_id=warehouse_id).select_for_update().first()
    if level is None:
        row = StockLevel(organization_id=organization_id, variant_id=variant_id, warehouse_id=warehouse_id)
        await StockLevel.bulk_create([row], ignore_conflicts=True)
        level = await StockLevel.filter(variant_id=variant_id, warehouse_id=warehouse_id).select_for_update().get()
    return level


async def _move(
    scope_or_org,
    level: StockLevel,
    kind: str,
    *,
    on_hand: Decimal = ZERO,
    reserved: Decimal = ZERO,
    reason: str = "",
    order_id: UUID | None = None,
) -> StockMovement:
    """Apply a change to a locked stock level and record it."""
    level.on_hand += on_hand
    level.reserved += reserved
    await StockLevel.filter(id=level.id).update(on_hand=level.on_hand, reserved=level.reserved)
    if isinstance(scope_or_org, Scope):
        organization_id = scope_or_org.organization_id
        actor_kind, actor_id = scope_or_org.actor
    else:
        organization_id, actor_kind, actor_id = scope_or_org, "system", None
    return await StockMovement.create(
        organization_id=organization_id,
        variant_id=level.variant_id,  # type: ignore[attr-defined]
        warehouse_id=level.warehouse_id,  # type: ignore[attr-defined]
        kind=kind,
        on_hand_delta=on_hand,
        reserved_delta=reserved,
        on_hand_after=level.on_hand,
        reserved_after=level.reserved,
        reason=reason,
        order_id=order_id,
        actor_kind=actor_kind,
        actor_id=actor_id,
    )


ADJUSTMENTS = ("receive", "write_off", "count")


async def adjust_stock(
    scope: Scope, variant_id: UUID, warehouse_id: UUID, kind: str, amount: object, reason: str | None = None
) -> StockMovement:
    """Receive goods (+quantity), write them off (−quantity), or set the counted quantity."""
    scope.require("catalog:stock")
    problems = Problems()
    q = ZERO
    if kind not in ADJUSTMENTS:
        problems.add(ErrorCode.INVALID, _("Unknown stock adjustment."), "kind")
    with problems:
        q = quantity(amount, "quantity", allow_zero=kind == "count")
    with problems:
        reason = limited_text(reason, "reason", 500) or ""
    problems.raise_if_any()
    async with in_transaction():
        variant = await scope.get(ProductVariant, variant_id, field="variantId")
        warehouse = await scope.get(Warehouse, warehouse_id, field="warehouseId")
        before = await _available(scope.organization_id, [variant.id])
        level = await _locked_level(scope.organization_id, variant.id, warehouse.id)
        if kind == "receive":
            delta = q
            if level.on_hand + q >= MAX_QUANTITY:
                raise UserInputError(
                    ErrorCode.INVALID,
                    _("A warehouse holds at most %(n)s of a variant.", n=MAX_QUANTITY - 1),
                    "quantity",
                )
        elif kind == "write_off":
            if q > level.on_hand:
                raise UserInputError(
                    ErrorCode.INVALID,
                    _("Only %(n)s on hand in this warehouse: cannot write off more.", n=_qty(level.on_hand)),
                    "quantity",
                )
            # Goods promised to orders are not written off behind their backs: the orders
            # would stay confirmed for stock that is gone. A count records such a loss (the
            # count is the truth, and the shortage then shows as negative available).
            if q > level.on_hand - max(level.reserved, ZERO):
                raise UserInputError(
                    ErrorCode.INVALID,
                    _(
                        "%(reserved)s of the %(n)s on hand are reserved for orders: write off at most"
                        " %(free)s, or record a stock count.",
                        reserved=_qty(level.reserved),
                        n=_qty(level.on_hand),
                        free=_qty(max(level.on_hand - level.reserved, ZERO)),
                    ),
                    "quantity",
                )
            delta = -q
        else:
            delta = q - level.on_hand
        movement = await _move(scope, level, kind, on_hand=delta, reason=reason or "")
        await audit.record(
            scope,
            f"stock.{kind}",
            variant,
            {
                "warehouse": warehouse.code,
                "on_hand": [str(level.on_hand - delta), str(level.on_hand)],
                "reason": reason,
            },
        )
        await outbox.emit(
            scope.organization_id,
            "catalog.stock_adjusted",
            {
                "variant_id": variant.id,
                "sku": variant.sku,
                "warehouse_id": warehouse.id,
                "kind": kind,
                "delta": delta,
                "on_hand": level.on_hand,
                "reserved": level.reserved,
                "reason": reason,
            },
        )
        await _low_stock(scope.organization_id, before, [variant])
    return movement


def _qty(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f").rstrip("0")


# -- settings ------------------------------------------------------------------------------------


async def get_settings(scope: Scope) -> CatalogSettings:
    scope.require("catalog:read")
    found = await CatalogSettings.get_or_none(organization_id=scope.organization_id)
    return found or CatalogSettings(organization_id=scope.organization_id, allow_backorders=False)


async def set_settings(scope: Scope, allow_backorders: bool) -> CatalogSettings:
    scope.require("catalog:update")
    async with in_transaction():
        found = await CatalogSettings.get_or_none(organization_id=scope.organization_id)
        before = found.allow_backorders if found else False
        if found is None:
            found = await CatalogSettings.create(
                organization_id=scope.organization_id, allow_backorders=allow_backorders
            )
        else:
            found.allow_backorders = allow_backorders
            await found.save(update_fields=["allow_backorders", "updated_at"])
        await audit.record(scope, "catalog.settings", found, {"allow_backorders": [before, allow_backorders]})
        await outbox.emit(scope.organization_id, "catalog.settings_changed", {"allow_backorders": allow_backorders})
    return found


# -- order lines ---------------------------------------------------------------------------------


async def fill_lines(
    scope: Scope, items: list[dict], currency: str, problems: Problems, kept: dict | None = None
) -> list[dict]:
    """Order lines with a ``variant_id``: the variant must be an active one of the catalog
    (``catalog:read``); its SKU, title and price fill what the line does not give, and its cost
    is kept on the line (``unit_cost``, for the margin) when it is in the order's currency.
    ``kept``: the order's own variant lines before an edit (variant id -> unit cost): those
    keep the cost they were sold at, and an archived variant the order already has stays."""
    kept = kept or {}
    wanted = {it["variant_id"] for it in items if it.get("variant_id") is not None}
    if not wanted:
        return items
    rows = await scope.queryset(ProductVariant).filter(id__in=list(wanted)).select_related("product")
    found = {v.id: v for v in rows}
    out = []
    for i, item in enumerate(items):
        variant_id = item.get("variant_id")
        if variant_id is None:
            out.append(item)
            continue
        variant = found.get(variant_id)
        field = f"items.{i}.variantId"
        # A line with a problem here stays in the list (so positions and "no items" stay true),
        # marked for the orders service to skip: its problem is already reported.
        if variant is None:
            problems.add(ErrorCode.NOT_FOUND, _("Variant not found."), field)
            out.append({**item, "skip": True})
            continue
        if variant_id not in kept and (not variant.is_active or not variant.product.is_active):
            problems.add(ErrorCode.INVALID, _("Variant %(sku)s is archived.", sku=variant.sku), field)
            out.append({**item, "skip": True})
            continue
        line = dict(item)
        if line.get("sku") is None:
            line["sku"] = variant.sku
        if line.get("title") is None:
            line["title"] = variant.title
        if line.get("unit_price") is None:
            if variant.currency != currency:
                problems.add(
                    ErrorCode.INVALID,
                    _(
                        "Variant %(sku)s is priced in %(variant)s, the order is in %(order)s: give the unit price.",
                        sku=variant.sku,
                        variant=variant.currency,
                        order=currency,
                    ),
                    f"items.{i}.unitPrice",
                )
                out.append({**line, "skip": True})
                continue
            line["unit_price"] = variant.price
        if variant_id in kept:
            line["unit_cost"] = kept[variant_id]
        else:
            line["unit_cost"] = variant.cost if variant.currency == currency else None
        out.append(line)
    return out


async def variants_by_sku(scope: Scope, skus: list[str]) -> dict[str, UUID]:
    """The active catalog variants (of active products) with these SKUs: SKU -> variant id."""
    wanted = sorted({s for s in skus if s})
    if not wanted:
        return {}
    rows = await (
        scope.queryset(ProductVariant)
        .filter(sku__in=wanted, is_active=True, product__is_active=True)
        .values_list("sku", "id")
    )
    return dict(rows)


async def _sold_on_a_marketplace(order) -> bool:
    from server.marketplace.models import MarketplaceOrderLink

    return await MarketplaceOrderLink.filter(order_id=order.id).exists()


# -- reservations --------------------------------------------------------------------------------


async def _backorders(organization_id: UUID) -> bool:
    found = await CatalogSettings.get_or_none(organization_id=organization_id)
    return bool(found and found.allow_backorders)


async def sync_order(scope: Scope, order, group: str) -> None:
    """Bring what ``order`` holds of the stock to what its status ``group`` wants (module
    docstring), inside the caller's transaction. Changes nothing when it is already there."""
    from server.orders.models import OrderItem

    target = GROUP_STATE.get(group)
    lines = (
        await OrderItem.filter(order_id=order.id, variant_id__not_isnull=True)
        .order_by("position")
        .values("position", "variant_id", "quantity", "sku")
    )
    held = await StockReservation.filter(order_id=order.id, state__in=("active", "shipped"))
    if not lines and not held:
        return  # no catalog lines: nothing to do (the usual case for shops without a catalog)
    organization_id = scope.organization_id
    want: dict[UUID, Decimal] = defaultdict(lambda: ZERO)
    first_line: dict[UUID, int] = {}
    skus: dict[UUID, str] = {}
    for line in lines:
        want[line["variant_id"]] += line["quantity"]
        first_line.setdefault(line["variant_id"], line["position"])
        skus.setdefault(line["variant_id"], line["sku"])
    active: dict[UUID, list[StockReservation]] = defaultdict(list)
    shipped: dict[UUID, Decimal] = defaultdict(lambda: ZERO)
    for r in held:
        if r.state == "active":
            active[r.variant_id].append(r)  # type: ignore[attr-defined]
        else:
            shipped[r.variant_id] += r.quantity  # type: ignore[attr-defined]
    # Still to hold per variant: what the lines want, less what was shipped already.
    to_hold = {v: max(q - shipped[v], ZERO) for v, q in want.items()} if target in ("active", "shipped") else {}
    release = [
        r for v, rows in active.items() for r in rows if sum((x.quantity for x in rows), ZERO) != to_hold.get(v, ZERO)
    ]
    reserve = {v: q for v, q in to_hold.items() if q > 0 and sum((x.quantity for x in active.get(v, [])), ZERO) != q}
    ship = [r for rows in active.values() for r in rows if r not in release] if target == "shipped" else []
    if not (release or reserve or ship):
        return
    touched = {r.variant_id for r in release} | set(reserve) | {r.variant_id for r in ship}  # type: ignore[attr-defined]
    variants = await ProductVariant.filter(id__in=list(touched))
    for variant in variants:  # a line taken off the order is still named in its release
        skus.setdefault(variant.id, variant.sku)
    warehouses = await Warehouse.filter(organization_id=organization_id, is_active=True).order_by("position", "code")
    before = await _available(organization_id, touched)
    # Lock every stock level the change may touch, in one order (no circular waits).
    levels = await (
        StockLevel.filter(organization_id=organization_id, variant_id__in=list(touched))
        .select_for_update()
        .order_by("id")
    )
    by_key = {(lv.variant_id, lv.warehouse_id): lv for lv in levels}  # type: ignore[attr-defined]
    events: dict[str, list[dict]] = defaultdict(list)

    async def level_of(variant_id: UUID, warehouse_id: UUID) -> StockLevel:
        level = by_key.get((variant_id, warehouse_id))
        if level is None:
            level = await _locked_level(organization_id, variant_id, warehouse_id)
            by_key[(variant_id, warehouse_id)] = level
        return level

    for r in release:
        level = await level_of(r.variant_id, r.warehouse_id)  # type: ignore[attr-defined]
        await _move(scope, level, "release", reserved=-r.quantity, order_id=order.id)
        await StockReservation.filter(id=r.id).update(state="released")
        events["catalog.stock_released"].append(_line(r.variant_id, skus, r.warehouse_id, r.quantity))  # type: ignore[attr-defined]
    if reserve:
        # A marketplace has already sold the goods: its order reserves what it needs even when
        # the shelf is short (like a backorder), so the order comes in and the shortage shows
        # as negative available instead of the import stalling on it.
        backorders = await _backorders(organization_id)
        asked_marketplace = False
        short = []
        for variant_id in sorted(reserve, key=lambda v: first_line.get(v, 0)):
            q = reserve[variant_id]
            chosen = next(
                (
                    w
                    for w in warehouses
                    if (lv := by_key.get((variant_id, w.id))) is not None and lv.on_hand - lv.reserved >= q
                ),
                None,
            )
            if chosen is None and not backorders and not asked_marketplace:
                backorders, asked_marketplace = await _sold_on_a_marketplace(order), True
            if chosen is None and backorders and not warehouses:
                continue  # no active warehouse to hold it in: the order takes it unreserved
            if chosen is None and backorders:
                chosen = next((w for w in warehouses if (variant_id, w.id) in by_key), warehouses[0])
            if chosen is None:
                available = sum(
                    (max(lv.on_hand - lv.reserved, ZERO) for w in warehouses if (lv := by_key.get((variant_id, w.id)))),
                    ZERO,
                )
                short.append((variant_id, q, available))
                continue
            level = await level_of(variant_id, chosen.id)
            await _move(scope, level, "reserve", reserved=q, order_id=order.id)
            row = await StockReservation.create(
                organization_id=organization_id,
                order_id=order.id,
                variant_id=variant_id,
                warehouse_id=chosen.id,
                quantity=q,
            )
            if target == "shipped":
                ship.append(row)
            events["catalog.stock_reserved"].append(_line(variant_id, skus, chosen.id, q))
        if short:
            problems = Problems()
            for variant_id, q, available in short:
                problems.add(
                    ErrorCode.OUT_OF_STOCK,
                    _(
                        "Not enough %(sku)s in stock: %(wanted)s wanted, %(available)s available.",
                        sku=skus.get(variant_id, ""),
                        wanted=_qty(q),
                        available=_qty(available),
                    ),
                    f"items.{first_line.get(variant_id, 0)}",
                )
            problems.raise_if_any()
    for r in ship:
        level = await level_of(r.variant_id, r.warehouse_id)  # type: ignore[attr-defined]
        await _move(scope, level, "ship", on_hand=-r.quantity, reserved=-r.quantity, order_id=order.id)
        await StockReservation.filter(id=r.id).update(state="shipped")
        events["catalog.stock_shipped"].append(_line(r.variant_id, skus, r.warehouse_id, r.quantity))  # type: ignore[attr-defined]
    for topic, moved in events.items():
        await outbox.emit(
            organization_id, topic, {"order_id": order.id, "number": order.number, "lines": jsonable(moved)}
        )
    await _low_stock(organization_id, before, variants)


def _line(variant_id: UUID, skus: dict, warehouse_id: UUID, q: Decimal) -> dict:
    return {"variant_id": variant_id, "sku": skus.get(variant_id, ""), "warehouse_id": warehouse_id, "quantity": q}
