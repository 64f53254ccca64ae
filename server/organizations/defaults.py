"""What a new organization starts with: a sales pipeline, the order statuses a typical
Ukrainian online shop uses with their allowed transitions, and SLA targets. Admins change
all of it through the API."""

from __future__ import annotations

PIPELINE = (
    "Продажі",
    [
        # name, probability %, kind
        ("Новий лід", 10, "open"),
        ("Кваліфікація", 25, "open"),
        ("Пропозиція", 50, "open"),
        ("Переговори", 75, "open"),
        ("Виграно", 100, "won"),
        ("Програно", 0, "lost"),
    ],
)

ORDER_STATUSES = [
    # code, name, group
    ("new", "Новий", "new"),
    ("processing", "Обробляється", "in_progress"),
    ("picking", "Комплектується", "in_progress"),
    ("packed", "Запаковано", "in_progress"),
    ("delayed", "Затримується", "in_progress"),
    ("shipped", "Відправлено", "shipping"),
    ("in_transit", "В дорозі", "shipping"),
    ("arrived", "Прибуло у відділення", "shipping"),
    ("delivered", "Доставлено", "completed"),
    ("cancelled", "Скасовано", "cancelled"),
    ("refused", "Відмова", "cancelled"),
    ("returned", "Повернено", "cancelled"),
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
