"""Built-in roles: what each may do, on which rows, and which fields it may not see.

A permission is ``<resource>:<action>``: ``read``, ``create``, ``update`` or ``delete`` per object
type, plus a few special rights (``orders:refund``, ``data:export``, ``data:import``, ``plugins:admin``; the
catalogue with descriptions is server/roles/catalogue.py). ``write`` is not a permission of its
own: code that creates-or-changes asks for ``<resource>:write``, which needs both ``create`` and
``update``; tokens granted before the split (OAuth scopes ``<resource>:write``) mean both.
``catalog:stock`` lets warehouse staff receive, write off and count stock (server/catalog);
``ProductVariant.cost`` and ``Order.margin`` are hidden from sales, support and logistics.
``analytics:read`` lets a role read the business metrics (server/analytics); the support
figures need only ``tickets:read``, so support agents see those and nothing else.
``pii:read`` shows customers' phones, e-mails and addresses in full; without it they are masked
(server/auth/masking.py), except the ``unmasked_fields`` a role needs for its work.
Row scope applies to resources whose model has an owner (``TenantModel.owner_path``):
``all`` rows, the ``team``'s rows (owner is a member of the caller's team), or ``own`` rows.
This table is the single source of truth; docs/roles.md describes it for people.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum


class RowScope(Enum):
    ALL = "all"
    TEAM = "team"
    OWN = "own"


R, C, U, D = "read", "create", "update", "delete"
W = (C, U)  # "write": create and update
CRUD = (R, C, U, D)
RW = (R, C, U)
# Special rights: actions beyond read/create/update/delete.
REFUND = ("orders", "refund")  # mark an order refunded (paymentStatus REFUNDED)
EXPORT = ("data", "export")  # CSV downloads (segment members, analytics) and exports (server/exports)
IMPORT = ("data", "import")  # spreadsheet imports from other systems (server/imports), and undoing them
PLUGIN_ADMIN = ("plugins", "admin")  # install, configure, enable, uninstall plugins
CATALOG_ADMIN = {"catalog": (R, C, U, "stock")}  # products, variants, categories, warehouses, stock
CATALOG_READ = {"catalog": (R,)}

BUSINESS = ("accounts", "deals", "orders", "tickets", "activities")
INBOX = {"conversations": (R, U)}  # the agents' inbox: read; reply, assign, snooze, close, link
CONFIG = ("pipelines", "order_statuses", "settings", "members")


@dataclass(frozen=True)
class Role:
    name: str
    description: str
    grants: dict[str, tuple[str, ...]]
    scope: RowScope = RowScope.ALL
    hidden_fields: frozenset[str] = field(default_factory=frozenset)
    # resource -> the only fields this role may change there (absent: any field).
    writable_fields: dict[str, frozenset[str]] = field(default_factory=dict)
    # Type.field entries of server/auth/masking.PII_FIELDS this role sees in full without pii:read.
    unmasked_fields: frozenset[str] = field(default_factory=frozenset)

    def allows(self, permission: str) -> bool:
        resource, _, action = permission.partition(":")
        actions = self.grants.get(resource, ())
        if action == "write":  # a create-or-change: needs both halves (or an old-style write grant)
            return "write" in actions or (C in actions and U in actions)
        return action in actions or (action in W and "write" in actions)

    @property
    def permissions(self) -> list[str]:
        return sorted(f"{res}:{act}" for res, acts in self.grants.items() for act in acts)


def _grant(resources, actions) -> dict[str, tuple[str, ...]]:
    return {res: tuple(actions) for res in resources}


def _special(*rights: tuple[str, str]) -> dict[str, tuple[str, ...]]:
    grants: dict[str, tuple[str, ...]] = {}
    for resource, action in rights:
        grants[resource] = (*grants.get(resource, ()), action)
    return grants


def _merge(*parts: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    merged: dict[str, tuple[str, ...]] = {}
    for part in parts:
        for resource, actions in part.items():
            merged[resource] = tuple(dict.fromkeys((*merged.get(resource, ()), *actions)))
    return merged


# What the shop pays for its goods, and so what it earns on an order: for those who run the
# business (owners, admins, managers, analysts), not for sales, support or the warehouse.
# "ProductVariant.cost" also covers the costs in a variant's price history (PriceChange).
COST_FIELDS = frozenset({"ProductVariant.cost", "Order.margin"})

# Marketing data that warehouse staff do not need to ship an order.
MARKETING_FIELDS = frozenset({"Account.tags", "Account.source", "Account.customFields", "Account.emails"})

PII = {"pii": (R,)}  # customers' phones, e-mails and addresses in full

# What warehouse staff need to hand a parcel over: the recipient's phone and street address.
DELIVERY_RECIPIENT = frozenset({"Delivery.recipientPhone", "Delivery.address"})

# Fields a role may be denied (``Role.hidden_fields``): the ones the API checks with
# ``Scope.can_see_field``. Custom roles choose from these (server/roles/service.py).
HIDEABLE_FIELDS = (
    MARKETING_FIELDS
    | COST_FIELDS
    | frozenset(f"{type_name}.customFields" for type_name in ("Contact", "Deal", "Order", "Ticket"))
)
# One custom field of a type may be hidden too: "<Type>.customFields.<key>" (docs/custom-fields.md).
HIDEABLE_CUSTOM_FIELD = re.compile(r"^(Account|Contact|Deal|Order|Ticket)\.customFields\.[a-z][a-z0-9_]{0,63}$")

DELIVERY_FIELDS = frozenset(
    {
        "delivery_method",
        "recipient_name",
        "recipient_phone",
        "delivery_city",
        "delivery_branch",
        "delivery_address",
        "waybill_number",
    }
)

ROLES: dict[str, Role] = {
    role.name: role
    for role in (
        Role(
            "owner",
            "Everything, including members and configuration.",
            _merge(
                _grant(BUSINESS, CRUD),
                _grant(CONFIG, CRUD),
                {"audit": (R,), "analytics": (R,)},
                _special(REFUND, EXPORT, IMPORT, PLUGIN_ADMIN),
                PII,
                INBOX,
                CATALOG_ADMIN,
            ),
        ),
        Role(
            "admin",
            "Everything, including members and configuration (pipelines, order statuses).",
            _merge(
                _grant(BUSINESS, CRUD),
                _grant(CONFIG, CRUD),
                {"audit": (R,), "analytics": (R,)},
                _special(REFUND, EXPORT, IMPORT, PLUGIN_ADMIN),
                PII,
                INBOX,
                CATALOG_ADMIN,
            ),
        ),
        Role(
            "manager",
            "Accounts, deals, orders, tickets and activities owned by their team.",
            _merge(
                _grant(BUSINESS, CRUD),
                _grant(CONFIG, (R,)),
                {"analytics": (R,)},
                _special(REFUND, EXPORT),
                PII,
                INBOX,
                CATALOG_READ,
            ),
            scope=RowScope.TEAM,
        ),
        Role(
            "sales",
            "Their own accounts, deals and orders, and the activities on their accounts.",
            _merge(
                _grant(("accounts", "deals", "orders", "activities"), RW),
                _grant(("pipelines", "order_statuses"), (R,)),
                _special(REFUND, EXPORT),
                PII,
                INBOX,
                CATALOG_READ,
            ),
            scope=RowScope.OWN,
            hidden_fields=COST_FIELDS,
        ),
        Role(
            "support",
            "Tickets; reads accounts and orders; logs activities.",
            {
                "tickets": CRUD,
                **INBOX,
                "activities": RW,
                "accounts": (R,),
                "orders": (R,),
                "order_statuses": (R,),
                **_special(EXPORT),
                **PII,
                **CATALOG_READ,
            },
            hidden_fields=COST_FIELDS,
        ),
        Role(
            "logistics",
            "Orders and their delivery; reads accounts without marketing data and with masked phones and "
            "addresses (an order's delivery recipient in full).",
            {
                "orders": RW,
                "accounts": (R,),
                "activities": RW,
                "order_statuses": (R,),
                **_special(EXPORT),
                "catalog": (R, "stock"),
            },
            hidden_fields=MARKETING_FIELDS | COST_FIELDS,
            unmasked_fields=DELIVERY_RECIPIENT,
            writable_fields={"orders": DELIVERY_FIELDS | {"status", "comment"}},
        ),
        Role(
            "analyst",
            "Reads everything, changes nothing; customers' phones, e-mails and addresses masked.",
            {
                **_grant(BUSINESS, (R,)),
                **_grant(CONFIG, (R,)),
                "audit": (R,),
                "analytics": (R,),
                "conversations": (R,),
                **_special(EXPORT),
                **CATALOG_READ,
            },
        ),
    )
}


# Roles of ``app`` principals: what the CRM's own background parts may do when they act in an
# organization on a plugin's behalf (audit entries name them ``app <id>``). Never given to members.
APP_ROLES: dict[str, Role] = {
    role.name: role
    for role in (
        Role(
            "plugin-webhook",
            "An inbound plugin webhook: finds or creates accounts by phone, files customers' messages in "
            "conversations and writes timeline entries.",
            {"accounts": RW, "activities": RW, **INBOX, **PII},
        ),
        Role(
            "marketplace-sync",
            "A marketplace plugin importing orders: finds or creates accounts by phone, creates and moves orders, "
            "matches their lines to the catalog by SKU.",
            _merge(
                {"accounts": RW, "orders": RW, "activities": RW, "order_statuses": (R,)},
                CATALOG_READ,
                _special(REFUND),
                PII,
            ),
        ),
        Role(
            "analytics",
            "The nightly RFM recompute: scores accounts and notes group moves on their timelines.",
            {"accounts": (R,), "activities": RW},
        ),
        Role(
            "delivery-tracking",
            "Delivery tracking: moves orders along as their parcels travel.",
            {"orders": RW, "activities": RW, "order_statuses": (R,)},
            writable_fields={"orders": frozenset({"status"})},
        ),
        Role(
            "payments",
            "Payment callbacks and refunds: set an order's payment status from its payments and move a fully "
            "paid order on by the organization's rule.",
            _merge({"orders": RW, "activities": RW, "order_statuses": (R,)}, _special(REFUND)),
            writable_fields={"orders": frozenset({"status", "payment_status"})},
        ),
        Role(
            "campaigns",
            "Retention campaigns: picks the audience of a step (accounts, saved segments) and records opt-outs.",
            {"accounts": (R,), **PII},
        ),
        Role(
            "webhooks",
            "Partner webhooks: reads what an owner reads to build payloads, pauses failing endpoints "
            "and gives the admins a task about it.",
            {**_grant(("accounts", "deals", "orders", "tickets"), (R,)), "settings": RW, "activities": RW},
        ),
        Role(
            "selfservice-bot",
            "The self-service bot: answers a customer's \"where is my order\" with their own orders' status in "
            "their conversation, or hands the conversation over to an agent.",
            {"accounts": (R,), "orders": (R,), "activities": RW, **INBOX},
        ),
        Role(
            "survey-answer",
            "A customer's answer on the public survey page: writes its timeline entry.",
            {"activities": RW},
        ),
    )
}
