"""Sending order notifications in batches (server/notifications/batch.py, docs/notifications.md):
a burst of status changes goes to the provider in batch jobs, each customer gets one message,
and the SQL statements of a batch do not grow with its size."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from plugins.simulators.turbosms import STOPLISTED_PHONE
from server.core.models import OutboxEvent
from server.jobs.inprocess import run_until_idle
from server.jobs.models import JobRun
from server.jobs.registry import Event
from server.notifications import jobs as notification_jobs
from server.notifications import routing
from server.notifications.batch import send_many
from server.notifications.models import Notification
from tests import test_notifications as single
from tests.helpers import QueryCounter

# The same fixtures: the TurboSMS simulator and a shop with the plugin, no send delay.
turbo_server, sim, shop = single.turbo_server, single.sim, single.shop

PHONES = [f"+38050{n:07d}" for n in range(1, 31)]


async def _orders(shop, phones: list[str]) -> list[dict]:
    return [await shop.order(phone=phone, name=f"Клієнт {n}") for n, phone in enumerate(phones)]


async def _queued_for_new_orders(shop, count: int, phones: list[str] | None = None) -> list[Notification]:
    """``count`` new orders and their queued "new" notifications, created by the batch handler
    from the outbox events (not relayed: nothing else sends them meanwhile)."""
    before = set(await OutboxEvent.filter(topic="order.created").values_list("id", flat=True))
    orders = await _orders(shop, phones or PHONES[:count])
    rows = [e for e in await OutboxEvent.filter(topic="order.created") if e.id not in before]
    assert len(rows) == len(orders) == count
    await OutboxEvent.filter(id__in=[e.id for e in rows]).update(dispatched_at=rows[0].created_at)
    events = [Event(e.id, e.organization_id, e.topic, e.payload, e.created_at) for e in rows]
    await notification_jobs.on_order_events(events)
    queued = await Notification.filter(source_event_id__in=[e.id for e in rows], state="queued")
    assert len(queued) == count
    return queued


async def test_the_statements_of_a_batch_do_not_grow_with_its_size(shop):
    queued = await _queued_for_new_orders(shop, 24)
    small, large = queued[:4], queued[4:]
    counts = {}
    for name, batch in (("small", small), ("large", large)):
        with QueryCounter() as q:
            outcome = await send_many([str(n.id) for n in batch], shop.database)
        assert set(outcome.values()) == {"sent"}, outcome
        counts[name] = q.count
    assert counts["small"] >= 10, counts  # the counter sees the statements
    assert counts["small"] == counts["large"], counts
    # Reading (notifications, orders and statuses, organizations, settings, accounts, consents,
    # installations, templates, items, shipments, reasons), claiming (2), finishing (3).
    assert counts["large"] <= 18, counts
    # Each customer got one message, and the CRM recorded it as sent with the provider's id.
    received = [shop.received(p) for p in PHONES[:24]]
    assert [len(r) for r in received] == [1] * 24
    rows = await Notification.filter(id__in=[n.id for n in queued]).order_by("recipient")
    assert {(r.state, r.attempts) for r in rows} == {("sent", 1)} and all(r.provider_message_id for r in rows)
    assert [r.recipient for r in rows] == PHONES[:24]
    assert all(r.installation_id and r.text.startswith("Клієнт, дякуємо!") for r in rows), rows[0].text


async def test_a_batch_sent_twice_sends_each_message_once(shop):
    queued = await _queued_for_new_orders(shop, 3)
    ids = [str(n.id) for n in queued]
    assert set((await send_many(ids, shop.database)).values()) == {"sent"}
    assert set((await send_many(ids, shop.database)).values()) == {"sent"}  # a re-run: nothing again
    assert [len(shop.received(p)) for p in PHONES[:3]] == [1, 1, 1]


async def test_a_burst_of_orders_goes_in_batch_jobs_and_each_customer_gets_one_message(shop):
    phones = PHONES[10:30]
    await shop.drain()  # what earlier tests left in the outbox (on PostgreSQL it is shared) goes first
    await _orders(shop, phones)  # 20 order.created events in the outbox at once
    last = await JobRun.all().order_by("-id").first()
    await shop.drain()
    jobs = JobRun.filter(id__gt=last.id if last else 0)
    [batch] = await jobs.filter(name="notifications.send_batch")
    assert batch.state == "done" and len(batch.kwargs["notification_ids"]) == 20
    [handler] = await jobs.filter(name="notifications.on_order_event")
    assert handler.job_id.startswith("notifications.on_order_event:batch:") and len(handler.kwargs["events"]) == 20
    assert [len(shop.received(p)) for p in phones] == [1] * 20
    assert not await jobs.filter(name="notifications.send").exists()  # no job per message


async def test_in_a_batch_a_refusal_falls_back_and_a_rate_limit_is_retried_alone(shop):
    stoplisted = "+" + STOPLISTED_PHONE
    queued = await _queued_for_new_orders(shop, 2, [stoplisted, PHONES[0]])
    outcome = await send_many([str(n.id) for n in queued], shop.database)
    [first] = await Notification.filter(id__in=[n.id for n in queued], recipient=stoplisted)
    chain = await Notification.filter(order_id=first.order_id).order_by("position")
    # The stop-listed customer: Viber refused for good, the next channel (SMS) queued by the batch.
    assert [(r.channel, r.state) for r in chain][:1] == [("viber", "failed")]
    assert [r.channel for r in chain] == ["viber", "sms"] and outcome[str(first.id)] == "failed"
    assert sorted(outcome.values()) == ["failed", "sent"] and len(shop.received(PHONES[0])) == 1

    queued = await _queued_for_new_orders(shop, 3, PHONES[1:4])
    # One of the three sends: 429, it did not go; TurboSMS asks to wait two minutes.
    shop.sim.rate_limit(1, retry_after=120, path="/message/send.json")
    before = datetime.now(UTC)
    outcome = await send_many([str(n.id) for n in queued], shop.database)
    # One met the rate limit: queued again with a retry job of its own; the two others were sent.
    assert sorted(outcome.values()) == ["queued", "sent", "sent"], outcome
    [again] = [r for r in queued if outcome[str(r.id)] == "queued"]
    assert (await Notification.get(id=again.id)).state == "queued"
    [retry] = await JobRun.filter(job_id=f"notify:{again.id}:retry-1")
    assert retry.run_after >= before + timedelta(seconds=120)  # not sooner than asked (backoff alone: 5 s)


async def test_in_quiet_hours_a_batch_waits_for_the_morning_together(shop):
    kyiv = datetime.now(ZoneInfo("Europe/Kyiv"))
    start, end = (kyiv - timedelta(hours=1)).strftime("%H:%M"), (kyiv + timedelta(hours=1)).strftime("%H:%M")
    await shop.settings(quietStart=start, quietEnd=end)
    phones = [f"+38066{n:07d}" for n in range(1, 6)]  # none that an earlier test's retry could reach
    queued = await _queued_for_new_orders(shop, 5, phones)
    last = await JobRun.all().order_by("-id").first()
    outcome = await send_many([str(n.id) for n in queued], shop.database)
    assert set(outcome.values()) == {"deferred"} and [shop.received(p) for p in phones] == [[]] * 5
    rows = await Notification.filter(id__in=[n.id for n in queued])
    assert {(r.state, r.scheduled_for.astimezone(ZoneInfo("Europe/Kyiv")).strftime("%H:%M")) for r in rows} == {
        ("queued", end)
    }
    [morning] = await JobRun.filter(id__gt=last.id, name="notifications.send_batch")  # one job for all five
    assert sorted(morning.kwargs["notification_ids"]) == sorted(str(n.id) for n in queued)
    await shop.settings(quietStart="00:00", quietEnd="00:00")  # the morning came
    await run_until_idle(shop.database, now=datetime.now(UTC) + timedelta(hours=2))
    assert [len(shop.received(p)) for p in phones] == [1] * 5


async def test_e_mail_and_chat_messages_in_a_batch_take_the_single_send(shop):
    """An e-mail needs its subject, HTML and unsubscribe link and the customer's address; a chat
    message the customer's consent and chat: the batch path hands them to the single send."""
    from server.plugins.models import PluginInstallation

    queued = await _queued_for_new_orders(shop, 2, PHONES[:2])
    first = queued[0]
    await PluginInstallation.create(
        organization_id=first.organization_id,
        plugin="email",
        config={},
        webhook_token_hash="0" * 64,
        webhook_token_issued_at=datetime.now(UTC),
    )
    # The organization wrote an e-mail text, so nothing but the channel sends it elsewhere.
    from server.notifications.models import NotificationTemplate

    await NotificationTemplate.create(
        organization_id=first.organization_id, trigger=first.trigger, channel="email", locale="uk", body="Дякуємо!"
    )
    await Notification.filter(id=queued[0].id).update(channel="email")
    await Notification.filter(id=queued[1].id).update(channel="telegram")
    outcome = await send_many([str(n.id) for n in queued], shop.database)
    assert set(outcome.values()) == {"skipped"}, outcome
    rows = {r.channel: r for r in await Notification.filter(id__in=[n.id for n in queued])}
    assert "немає адреси електронної пошти" in rows["email"].reason  # the shop's language
    assert "не погодився на повідомлення в telegram" in rows["telegram"].reason
    assert [shop.received(p) for p in PHONES[:2]] == [[], []]  # nothing went to their phones


async def test_a_chat_bot_installed_first_is_never_taken_for_the_sms_gateway(shop):
    """The Viber bot is a messaging plugin too, but sends no order notices: SMS and Viber keep
    going through TurboSMS whatever was installed first."""
    from server.plugins.models import PluginInstallation

    queued = await _queued_for_new_orders(shop, 1, PHONES[:1])
    org_id = queued[0].organization_id
    bot = await PluginInstallation.create(
        organization_id=org_id,
        plugin="viber",
        config={},
        webhook_token_hash="1" * 64,
        webhook_token_issued_at=datetime.now(UTC) - timedelta(days=1),
    )
    await PluginInstallation.filter(id=bot.id).update(created_at=datetime.now(UTC) - timedelta(days=1))
    for channel in ("sms", "viber"):
        chosen = await routing.installation_for(org_id, queued[0].trigger, channel)
        assert chosen is not None and chosen.plugin == "turbosms", channel
    assert set((await send_many([str(queued[0].id)], shop.database)).values()) == {"sent"}
