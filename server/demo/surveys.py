"""Answered surveys for the demo shop, so the survey list, the figures and the follow-up tasks
are not empty: most delivered orders and resolved tickets have a survey, most of them answered,
through the same service functions a real answer goes through (timeline, tasks included)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from server.core.public_links import new_token
from server.orders.models import Order
from server.surveys import service
from server.surveys.models import Survey
from server.tickets.models import Ticket

NPS_WEIGHTS = (1, 1, 1, 1, 2, 2, 3, 5, 8, 12, 14)  # 0..10: mostly happy, some detractors
FIVE_WEIGHTS = (1, 2, 3, 6, 8)  # 1..5
COMMENTS = (
    "",
    "",
    "Швидка доставка, дякую!",
    "Товар як на фото.",
    "Кур'єр запізнився, але все гаразд.",
    "Упаковка була пошкоджена.",
    "Довго чекав на відповідь оператора.",
)


async def seed_surveys(org, rng: random.Random, now: datetime) -> int:
    delivered = await Order.filter(organization_id=org.id, status__code="delivered").order_by("created_at", "id")
    resolved = await Ticket.filter(organization_id=org.id, status__in=("resolved", "closed")).order_by("number")
    count = 0
    for order in delivered[:40]:
        sent = now - timedelta(days=rng.randrange(1, 80), hours=rng.randrange(0, 12))
        survey = await service.open_for_order(org.id, order.id, "delivered", sent - timedelta(days=3))
        count += await _answer(survey, rng, sent, {"nps": rng.choices(range(11), NPS_WEIGHTS)[0]})
    for ticket in resolved:
        sent = now - timedelta(days=rng.randrange(1, 20), hours=rng.randrange(0, 12))
        survey = await service.open_for_ticket(org.id, ticket.id, "resolved", sent)
        scores = {"csat": rng.choices(range(1, 6), FIVE_WEIGHTS)[0], "ces": rng.choices(range(1, 6), FIVE_WEIGHTS)[0]}
        count += await _answer(survey, rng, sent, scores)
    return count


async def _answer(survey: Survey | None, rng: random.Random, sent: datetime, scores: dict) -> int:
    if survey is None:
        return 0
    token = new_token()
    channel = rng.choice(("viber", "viber", "sms"))
    await service.link_sent(survey.id, token, channel, sent)
    if rng.random() < 0.2:  # some customers never answer
        return 1
    answer = service.Answer(scores=scores, comment=rng.choice(COMMENTS))
    await service.answer(token, answer, "uk", now=sent + timedelta(hours=rng.randrange(1, 30)))
    return 1
