"""Campaign results for the demo shop, so the campaign screen is not empty: the win-back and
review campaigns on (the win-back's first step with an A/B test), some customers with a birthday
and marketing consent, and past messages with their delivery states and clicks on their links
(about one in five delivered messages). Conversions and revenue
are not invented: they follow from the demo orders the customers placed after a message."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from server.accounts.models import Account
from server.campaigns import service
from server.campaigns.models import Campaign, CampaignMessage, CampaignStep, CustomerMarketing
from server.clicks.models import TrackedLink
from server.core.public_links import digest
from server.notifications.models import Notification

VARIANT_B = {
    "key": "B",
    "texts": {
        "uk": "{{ customer_name }}, безкоштовна доставка до {{ offer_until }}! {{ shop_name }}",
        "en": "{{ customer_name }}, free delivery until {{ offer_until }}! {{ shop_name }}",
    },
}


async def seed_campaigns(org, rng: random.Random, now: datetime) -> int:
    campaigns = {c.kind: c for c in await service.ensure_defaults(org.id)}
    await Campaign.filter(id__in=[campaigns["winback"].id, campaigns["review"].id]).update(enabled=True)
    steps = {
        (s.campaign_id, s.position): s for s in await CampaignStep.filter(organization_id=org.id).order_by("position")
    }
    first = steps[(campaigns["winback"].id, 0)]
    first.variants = [first.variants[0], VARIANT_B]
    await first.save(update_fields=["variants", "updated_at"])
    accounts = await Account.filter(organization_id=org.id, deleted_at=None).order_by("created_at", "id").limit(300)
    await CustomerMarketing.bulk_create(
        [
            CustomerMarketing(
                organization_id=org.id,
                account_id=a.id,
                opted_in=rng.random() < 0.85,
                birthday=(now - timedelta(days=rng.randrange(18 * 365, 60 * 365))).date(),
            )
            for a in accounts
        ],
        ignore_conflicts=True,
    )
    review = steps[(campaigns["review"].id, 0)]
    count, links = 0, []
    for index, account in enumerate(accounts[:240]):
        step = first if index % 2 else review
        sent = now - timedelta(days=rng.randrange(8, 300), hours=rng.randrange(0, 12))
        message = await CampaignMessage.create(
            organization_id=org.id,
            step_id=step.id,
            account_id=account.id,
            occurrence=f"demo-{index}",
            variant=service.variant_of(step, account.id),
            notified=True,
            sent_at=sent,
        )
        state = rng.choices(("delivered", "sent", "failed"), (8, 2, 1))[0]
        notification = await Notification.create(
            organization_id=org.id,
            account_id=account.id,
            source_event_id=message.id,
            trigger=service.trigger("winback" if step is first else "review"),
            channel="viber",
            state=state,
            scheduled_for=sent,
            sent_at=sent if state != "failed" else None,
            delivered_at=sent + timedelta(minutes=1) if state == "delivered" else None,
        )
        # Its own generator, so the demo's other random data stays what it was before clicks.
        clicks = random.Random(f"demo-click-{index}")
        if state != "failed":
            opened = state == "delivered" and clicks.random() < 0.2
            links.append(
                TrackedLink(
                    organization_id=org.id,
                    notification_id=notification.id,
                    campaign_message_id=message.id,
                    account_id=account.id,
                    token_hash=digest(f"demo-{org.id}-{index}"),
                    url="https://shop.example/offer",
                    clicks=clicks.randrange(1, 4) if opened else 0,
                    first_clicked_at=sent + timedelta(minutes=clicks.randrange(2, 600)) if opened else None,
                )
            )
        count += 1
    await TrackedLink.bulk_create(links)
    return count
