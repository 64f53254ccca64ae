"""The demo organization's catalog: two warehouses, a small category tree, products with
variants (prices, costs, weights, barcodes), stock received in both warehouses, and low-stock
thresholds, all through the catalog service as the owner (docs/catalog.md)."""

from __future__ import annotations

from server.auth.models import User
from server.auth.principal import Principal
from server.auth.roles import ROLES
from server.auth.scope import Scope
from server.catalog import service as catalog
from server.organizations.models import Organization

# category path, product title, [(sku, variant title, price, cost, grams, barcode, kyiv, lviv, threshold)]
DEMO_PRODUCTS = (
    (
        ("Кухня", "Чайники"),
        "Чайник Bosch TWK",
        [
            ("BOSCH-TWK-W", "Чайник Bosch TWK, білий", "1299.00", "820.00", 1200, "4242005112345", "12", "4", "5"),
            ("BOSCH-TWK-B", "Чайник Bosch TWK, чорний", "1349.00", "850.00", 1200, "4242005112352", "3", "0", "5"),
        ],
    ),
    (
        ("Кухня", "Посуд"),
        "Набір чашок",
        [("CUPS-6", "Чашки, 6 шт.", "349.50", "180.00", 1800, "4820000000017", "40", "25", "10")],
    ),
    (
        ("Кухня", "Посуд"),
        "Сковорода Tefal 28 см",
        [("TEFAL-28", "Сковорода Tefal 28 см", "1599.00", "1010.00", 1500, "3168430312345", "7", "2", None)],
    ),
    (
        ("Дім",),
        "Плед вовняний",
        [
            ("PLAID-GR", "Плед вовняний, сірий", "899.00", "450.00", 900, None, "15", "10", None),
            ("PLAID-BL", "Плед вовняний, синій", "899.00", "450.00", 900, None, "0", "6", None),
        ],
    ),
)


async def seed_catalog(org: Organization, owner: User) -> int:
    """The demo catalog; returns how many variants it has."""
    scope = Scope(Principal(kind="user", id=str(owner.id), user=owner, organization=org, role=ROLES["owner"]))
    kyiv = await catalog.create_warehouse(scope, {"name": "Київ, основний склад", "code": "kyiv", "position": 0})
    lviv = await catalog.create_warehouse(scope, {"name": "Львів", "code": "lviv", "position": 1})
    categories: dict[tuple[str, ...], object] = {}
    variants = 0
    for path, title, rows in DEMO_PRODUCTS:
        for depth in range(1, len(path) + 1):
            key = path[:depth]
            if key not in categories:
                parent = categories.get(key[:-1])
                categories[key] = await catalog.create_category(
                    scope,
                    {"name": key[-1], "parent_id": parent.id if parent else None},  # type: ignore[attr-defined]
                )
        product = await catalog.create_product(
            scope,
            {
                "title": title,
                "category_id": categories[path].id,  # type: ignore[attr-defined]
                "variants": [
                    {
                        "sku": sku,
                        "title": name,
                        "price": price,
                        "cost": cost,
                        "weight_grams": grams,
                        "barcode": barcode,
                        "low_stock_threshold": threshold,
                    }
                    for sku, name, price, cost, grams, barcode, _k, _l, threshold in rows
                ],
            },
        )
        saved = {v.sku: v for v in await product.variants.all()}  # type: ignore[attr-defined]
        for sku, *_rest, in_kyiv, in_lviv, _threshold in rows:
            for warehouse, quantity in ((kyiv, in_kyiv), (lviv, in_lviv)):
                if quantity != "0":
                    await catalog.adjust_stock(
                        scope, saved[sku].id, warehouse.id, "receive", quantity, "Початкові залишки"
                    )
            variants += 1
    return variants
