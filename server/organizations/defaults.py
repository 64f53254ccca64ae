"""What a new organization starts with: a sales pipeline, the order statuses a typical
Ukrainian online shop uses with their allowed transitions, and SLA targets. Admins change
all of it through the API.

Names are catalog texts: a new organization gets them in its own language
(``Organization.locale``, see ``service.seed_defaults``)."""

from __future__ import annotations

from server.i18n import N_

PIPELINE = (
    N_("Sales"),
    [
        # name, probability %, kind
        (N_("New lead"), 10, "open"),
        (N_("Qualification"), 25, "open"),
        (N_("Proposal"), 50, "open"),
        (N_("Negotiation"), 75, "open"),
        (N_("Closed won"), 100, "won"),
        (N_("Closed lost"), 0, "lost"),
    ],
)

ORDER_STATUSES = [
    # code, name, group
    ("new", N_("New"), "new"),
    ("processing", N_("Processing"), "in_progress"),
    ("picking", N_("Picking"), "in_progress"),
    ("packed", N_("Packed"), "in_progress"),
    ("delayed", N_("Delayed"), "in_progress"),
    ("shipped", N_("Shipped"), "shipping"),
    ("in_transit", N_("In transit"), "shipping"),
    ("arrived", N_("Arrived at the branch"), "shipping"),
    ("delivered", N_("Delivered"), "completed"),
    ("cancelled", N_("Cancelled"), "cancelled"),
    ("refused", N_("Refused"), "cancelled"),
    ("returned", N_("Returned"), "cancelled"),
]

ORDER_TRANSITIONS = {
    "new": ["processing", "cancelled"],
    "processing": ["picking", "delayed", "cancelled"],
    "picking": ["packed", "delayed", "cancelled"],
    "packed": ["shipped", "delayed", "cancelled"],
    "delayed": ["processing", "picking", "packed", "shipped", "cancelled"],
    "shipped": ["in_transit", "arrived", "delivered", "refused", "returned"],
    "in_transit": ["arrived", "delivered", "refused", "returned"],
    "arrived": ["delivered", "refused", "returned"],
    "delivered": ["returned"],
    "refused": ["returned"],
    "cancelled": [],
    "returned": [],
}

# priority: (first response, resolution) in minutes
SLA = {
    "urgent": (30, 4 * 60),
    "high": (60, 8 * 60),
    "normal": (4 * 60, 24 * 60),
    "low": (8 * 60, 72 * 60),
}
