"""Every permission a role can hold, grouped per object type, with a description for people.

Custom roles (server/roles/service.py) are made from these; the built-in roles
(server/auth/roles.py) use nothing else. An object type has ``read``, ``create``, ``update`` and
``delete``; a few have a special right on top (refunds, CSV exports, plugin administration).
"""

from __future__ import annotations

from dataclasses import dataclass

from server.i18n import N_

# object type -> (label, {action: description}); order is the order people see.
_OBJECTS: dict[str, tuple[str, dict[str, str]]] = {
    "accounts": (
        N_("Customers and companies"),
        {
            "read": N_("See customers, companies and their contacts (within the row scope)."),
            "create": N_("Add customers, companies and contacts; save segments."),
            "update": N_("Change and merge customers, companies and contacts."),
            "delete": N_("Delete customers, companies and contacts."),
        },
    ),
    "deals": (
        N_("Deals"),
        {
            "read": N_("See deals."),
            "create": N_("Open deals."),
            "update": N_("Change deals and move them between stages."),
            "delete": N_("Delete deals."),
        },
    ),
    "orders": (
        N_("Orders"),
        {
            "read": N_("See orders and their shipments."),
            "create": N_("Create orders."),
            "update": N_("Change orders, move their status, send them."),
            "delete": N_("Delete orders."),
            "refund": N_("Mark an order refunded (payment status REFUNDED)."),
        },
    ),
    "tickets": (
        N_("Support tickets"),
        {
            "read": N_("See support tickets and the support figures."),
            "create": N_("Open tickets."),
            "update": N_("Change, assign and close tickets."),
            "delete": N_("Delete tickets."),
        },
    ),
    "conversations": (
        N_("Conversations (inbox)"),
        {
            "read": N_("See the inbox: customers' chats in Telegram, Viber and other channels."),
            "update": N_("Reply to customers, assign, snooze, close and link conversations."),
        },
    ),
    "activities": (
        N_("Activities"),
        {
            "read": N_("See the timeline: calls, notes, messages."),
            "create": N_("Log calls, notes and messages."),
            "update": N_("Change timeline entries."),
            "delete": N_("Delete timeline entries."),
        },
    ),
    "pipelines": (
        N_("Deal pipelines"),
        {
            "read": N_("See pipelines and their stages."),
            "create": N_("Add pipelines and stages."),
            "update": N_("Change pipelines and stages."),
            "delete": N_("Delete pipelines and stages."),
        },
    ),
    "order_statuses": (
        N_("Order statuses"),
        {
            "read": N_("See order statuses and their transitions."),
            "create": N_("Add order statuses."),
            "update": N_("Change order statuses and their transitions."),
            "delete": N_("Delete order statuses."),
        },
    ),
    "catalog": (
        N_("Catalog and stock"),
        {
            "read": N_("See products, variants, categories, warehouses and stock."),
            "create": N_("Add products, variants, categories and warehouses."),
            "update": N_("Change and archive products, variants, categories and warehouses; the backorder rule."),
            "stock": N_("Receive, write off and count stock in warehouses."),
        },
    ),
    "settings": (
        N_("Settings"),
        {
            "read": N_("See the organization's settings."),
            "create": N_("Add settings: API keys, partner applications, rules, templates."),
            "update": N_("Change settings."),
            "delete": N_("Delete settings."),
        },
    ),
    "members": (
        N_("Members and roles"),
        {
            "read": N_("See members and teams."),
            "create": N_("Add members and teams; create roles."),
            "update": N_("Change members' roles, teams and extensions; change roles."),
            "delete": N_("Delete roles."),
        },
    ),
    "audit": (N_("Audit trail"), {"read": N_("See who changed what and when.")}),
    "analytics": (N_("Analytics"), {"read": N_("See the business figures (sales, customers, cohorts).")}),
    "pii": (
        N_("Customers' personal data"),
        {"read": N_("See customers' phones, e-mails and addresses in full (masked without it).")},
    ),
    "data": (
        N_("Data export and import"),
        {
            "export": N_("Download CSV files (segment members, analytics) and export lists (CSV, XLSX)."),
            "import": N_("Import customers and orders from spreadsheets of other systems, and undo an import."),
        },
    ),
    "plugins": (N_("Plugins"), {"admin": N_("Install, configure, enable and remove plugins.")}),
}


@dataclass(frozen=True)
class Permission:
    name: str  # resource:action
    object_type: str
    action: str
    description: str  # untranslated msgid: translate with _() when shown


def permissions() -> list[Permission]:
    return [
        Permission(f"{obj}:{action}", obj, action, text)
        for obj, (_label, actions) in _OBJECTS.items()
        for action, text in actions.items()
    ]


def object_types() -> list[tuple[str, str]]:
    """(object type, untranslated label) in catalogue order."""
    return [(obj, label) for obj, (label, _actions) in _OBJECTS.items()]


NAMES: frozenset[str] = frozenset(p.name for p in permissions())
