"""Surveys from the customer's side and the shop's: a delivered order's NPS survey and a
resolved ticket's CSAT/CES survey go out once, later, through the notification cascade (the
TurboSMS simulator over real HTTP), respect consent and quiet hours; answers reach the timeline,
open a task for an unhappy customer, and add up to NPS, CSAT and CES exactly."""

from __future__ import annotations

import asyncio
import hashlib
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from plugins.simulators.turbosms import TEST_TOKEN, TurboSMSSimulator
from server.activities.models import Activity
from server.core.models import OutboxEvent
from server.graphql import ids
from server.jobs.inprocess import run_until_idle
from server.jobs.registry import Event
from server.notifications.models import Notification
from server.organizations.models import Organization
from server.surveys import jobs as survey_jobs
from server.surveys import service
from server.surveys.models import Survey
from tests.provider_plugins import install
from tests.test_notifications import PHONE, Shop

DAYS_3 = 3 * 24 * 60
LINK = re.compile(r"http://127\.0\.0\.1:8000/s/([A-Za-z0-9_-]+)")
TICKET = """mutation($i: CreateTicketInput!) { createTicket(input: $i) {
  ticket { id number version } errors { field code message } } }"""
TICKET_STATUS = """mutation($i: ChangeTicketStatusInput!) { changeTicketStatus(input: $i) {
  ticket { id version status } errors { field code message } } }"""
FIGURES = """query($p: SurveyPeriod!, $by: [SurveyGrouping!]) { surveyFigures(period: $p, by: $by) {
  periodStart channel source
  nps { score responses promoters passives detractors } csat { score responses positive } ces { score responses } } }"""
SURVEYS = """query($w: SurveyWhere) { surveys(first: 50, where: $w) { totalCount edges { node {
  id kind state channel nps csat ces comment detractor
  order { id } ticket { id } account { id }
  followUpTask { id kind subject dueAt actor { id } } } } } }"""
CONSENT = """mutation($i: SetChannelConsentInput!) { setChannelConsent(input: $i) { errors { code } } }"""


@pytest.fixture(scope="module")
def turbo_server():
    with TurboSMSSimulator() as sim:
        yield sim


@pytest.fixture
async def shop(api, tenants, database, turbo_server):
    turbo_server.reset()
    owner = (await tenants.create(("owner",))).owner
    config = {"sender": "MyShop", "viber_sender": "MyShop", "api_url": turbo_server.url, "viber_sms_fallback": False}
    assert (await install(owner, api, "turbosms", config, {"token": TEST_TOKEN}))["errors"] == []
    shop = Shop(owner, api, database, turbo_server)
    settings = await shop.settings(quietStart="00:00", quietEnd="00:00", sendDelaySeconds=0)
    assert settings["errors"] == []
    return shop


async def delivered(shop: Shop, phone: str = PHONE) -> dict:
    order = await shop.order(phone=phone)
    await shop.move(order, "processing", "picking", "packed", "shipped", "delivered")
    await shop.drain()
    return order


def survey_messages(shop: Shop, phone: str = PHONE) -> list[tuple[str, str]]:
    return [(channel, text) for channel, text in shop.received(phone) if "/s/" in text]


async def test_a_delivered_order_gets_one_nps_survey_three_days_later_through_viber(shop):
    order = await delivered(shop)
    order_pk = ids.decode(order["id"])[1]
    [survey] = await Survey.filter(order_id=order_pk)
    assert survey.kind == "nps"
    assert survey_messages(shop) == []  # not yet: three days after delivery
    # The event is handled again (a redelivery, a second worker): still one survey, one message.
    row = (
        await OutboxEvent.filter(organization_id=survey.organization_id, topic="order.status_changed")
        .order_by("-created_at")
        .first()
    )
    assert row.payload["to"] == "delivered"
    event = Event(row.id, row.organization_id, row.topic, row.payload, row.created_at)
    await survey_jobs.on_order_status(event)
    await asyncio.gather(survey_jobs.on_order_status(event), survey_jobs.on_order_status(event))  # two workers
    assert await Survey.filter(order_id=order_pk).count() == 1
    assert await Notification.filter(survey_id=survey.id).count() == 1

    await shop.drain(minutes=DAYS_3 - 10)
    assert survey_messages(shop) == []
    await shop.drain(minutes=DAYS_3 + 10)
    [(channel, text)] = survey_messages(shop)
    assert channel == "viber"
    assert text.startswith(f"Олена, як вам замовлення №{order['number']}? Оцініть нас за хвилину: ")
    token = LINK.search(text).group(1)
    survey = await Survey.get(id=survey.id)
    # Only the token's hash is kept: neither the survey nor the stored message holds the link.
    assert survey.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert (survey.channel, survey.expires_at - survey.sent_at) == ("viber", timedelta(days=30))
    [note] = await Notification.filter(survey_id=survey.id)
    assert note.state == "sent" and token not in note.text and "/s/…" in note.text
    await shop.drain(minutes=DAYS_3 * 3)
    assert len(survey_messages(shop)) == 1


async def test_a_customer_who_opted_out_of_every_channel_gets_no_survey(shop):
    order = await shop.order()
    for channel in ("viber", "sms"):
        body = await shop.owner.data(
            shop.api, CONSENT, {"i": {"accountId": order["accountId"], "channel": channel, "optedIn": False}}
        )
        assert body["setChannelConsent"]["errors"] == []
    await shop.move(order, "processing", "picking", "packed", "shipped", "delivered")
    await shop.drain(minutes=DAYS_3 + 10)
    assert shop.received() == []
    survey = await Survey.get(order_id=ids.decode(order["id"])[1])
    states = await Notification.filter(survey_id=survey.id).order_by("position").values_list("channel", "state")
    assert [tuple(s) for s in states] == [("viber", "skipped"), ("sms", "skipped")]
    assert survey.token_hash is None  # no link ever went out


async def test_a_viber_opt_out_sends_the_survey_by_sms(shop):
    order = await shop.order()
    await shop.owner.data(
        shop.api, CONSENT, {"i": {"accountId": order["accountId"], "channel": "viber", "optedIn": False}}
    )
    await shop.move(order, "processing", "picking", "packed", "shipped", "delivered")
    await shop.drain(minutes=DAYS_3 + 10)
    assert [c for c, _ in survey_messages(shop)] == ["sms"]
    assert (await Survey.get(order_id=ids.decode(order["id"])[1])).channel == "sms"


async def make_ticket(shop: Shop, account_id: str) -> dict:
    body = await shop.owner.data(shop.api, TICKET, {"i": {"subject": "Не працює оплата", "accountId": account_id}})
    assert body["createTicket"]["errors"] == []
    return body["createTicket"]["ticket"]


async def resolve(shop: Shop, ticket: dict) -> None:
    body = await shop.owner.data(
        shop.api, TICKET_STATUS, {"i": {"id": ticket["id"], "version": ticket["version"], "status": "RESOLVED"}}
    )
    assert body["changeTicketStatus"]["errors"] == []


async def test_quiet_hours_hold_a_ticket_survey_until_they_end(shop):
    kyiv = datetime.now(ZoneInfo("Europe/Kyiv"))
    start, end = (kyiv - timedelta(hours=1)).strftime("%H:%M"), (kyiv + timedelta(hours=1)).strftime("%H:%M")
    await shop.settings(quietStart=start, quietEnd=end)
    order = await shop.order()
    await shop.drain()
    ticket = await make_ticket(shop, order["accountId"])
    await resolve(shop, ticket)
    await shop.drain(minutes=1)
    survey = await Survey.get(ticket_id=ids.decode(ticket["id"])[1])
    [note] = await Notification.filter(survey_id=survey.id)
    assert note.state == "queued" and note.order_id is None
    assert note.scheduled_for.astimezone(ZoneInfo("Europe/Kyiv")).strftime("%H:%M") == end
    assert survey_messages(shop) == []
    await shop.settings(quietStart="00:00", quietEnd="00:00")
    await run_until_idle(shop.database, now=datetime.now(UTC) + timedelta(hours=2))
    [(channel, text)] = survey_messages(shop)
    assert f"звернення №{ticket['number']}" in text and channel == "viber"


async def answer_link(shop: Shop, text: str, form: dict) -> int:
    token = LINK.search(text).group(1)
    response = await shop.api.http.post(f"/s/{token}", data=form)
    return response.status_code


async def test_an_unhappy_ticket_answer_reaches_the_timeline_and_opens_a_task_for_the_assignee(shop):
    order = await shop.order()
    await shop.drain()
    ticket = await make_ticket(shop, order["accountId"])
    await resolve(shop, ticket)
    await shop.drain()
    [(_, text)] = survey_messages(shop)
    assert await answer_link(shop, text, {"csat": "2", "ces": "4", "comment": "Довго чекав"}) == 200

    body = await shop.owner.data(shop.api, SURVEYS, {"w": {"kind": {"eq": "SUPPORT"}}})
    [survey] = [e["node"] for e in body["surveys"]["edges"]]
    assert (survey["state"], survey["csat"], survey["ces"], survey["comment"]) == ("ANSWERED", 2, 4, "Довго чекав")
    assert survey["detractor"] is True and survey["ticket"]["id"] == ticket["id"]
    task = survey["followUpTask"]
    assert task["kind"] == "TASK" and task["actor"]["id"] == shop.owner.user_id  # the ticket's assignee
    assert (
        task["subject"]
        == f"Передзвоніть клієнту: низька оцінка за звернення №{ticket['number']} (задоволення 2 з 5, легкість 4 з 5)"
    )
    # On the ticket too, and on the account's timeline (in the organization's language).
    on_ticket = await shop.owner.data(
        shop.api, "query($id: ID!) { ticket(id: $id) { survey { id csat } } }", {"id": ticket["id"]}
    )
    assert on_ticket["ticket"]["survey"] == {"id": survey["id"], "csat": 2}
    [entry] = await Activity.filter(account_id=ids.decode(order["accountId"])[1], kind="survey")
    assert (
        entry.subject == f"Відповідь на опитування про звернення №{ticket['number']}: задоволення 2 з 5, легкість 4 з 5"
    )
    assert entry.body == "Довго чекав" and entry.ticket_id == ids.decode(ticket["id"])[1]


async def test_a_happy_answer_opens_no_task(shop):
    order = await delivered(shop)
    await shop.drain(minutes=DAYS_3 + 10)
    [(_, text)] = survey_messages(shop)
    assert await answer_link(shop, text, {"nps": "9"}) == 200
    body = await shop.owner.data(
        shop.api,
        "query($id: ID!) { order(id: $id) { survey { nps detractor followUpTask { id } } } }",
        {"id": order["id"]},
    )
    assert body["order"]["survey"] == {"nps": 9, "detractor": False, "followUpTask": None}
    assert await Activity.filter(account_id=ids.decode(order["accountId"])[1], kind="task").count() == 0


# -- figures on hand-made answers -----------------------------------------------------------


async def hand_made(organization_id, account_id, kind: str, on: date, channel: str, **scores) -> None:
    at = datetime.combine(on, datetime.min.time(), UTC) + timedelta(hours=12)
    await Survey.create(
        organization_id=organization_id,
        kind=kind,
        account_id=account_id,
        due_at=at,
        channel=channel,
        answered_at=at,
        answered_on=on,
        detractor=service.is_detractor(scores),
        **scores,
    )


async def test_nps_csat_and_ces_are_computed_exactly(api, tenants):
    owner = (await tenants.create(("owner",))).owner
    org = await Organization.get(slug=owner.org)
    from tests.test_orders import make_account

    web = ids.decode(await make_account(owner, api, name="Веб"), "Account")[1]
    ads = ids.decode(await make_account(owner, api, name="Реклама", phones=("0671112233",)), "Account")[1]
    from server.accounts.models import Account

    await Account.filter(id=web).update(source="website")
    await Account.filter(id=ads).update(source="ads")
    oct_, nov = date(2026, 10, 20), date(2026, 11, 5)
    # NPS: 10, 9, 9 (Oct, viber) and 9, 8, 6, 3 (Nov, sms): 4 promoters, 1 passive, 2 detractors of 7.
    for score, on, channel, account in [
        (10, oct_, "viber", web), (9, oct_, "viber", web), (9, oct_, "viber", ads),
        (9, nov, "sms", ads), (8, nov, "sms", ads), (6, nov, "sms", web), (3, nov, "sms", ads),
    ]:  # fmt: skip
        await hand_made(org.id, account, "nps", on, channel, nps=score)
    # Support: CSAT 5, 4, 4, 3, 1 -> 3 positive of 5; CES 5, 4, 3, 3, 1 -> mean 3.2.
    for csat, ces in [(5, 5), (4, 4), (4, 3), (3, 3), (1, 1)]:
        await hand_made(org.id, web, "support", nov, "viber", csat=csat, ces=ces)
    await hand_made(org.id, web, "nps", date(2026, 12, 1), "viber", nps=0)  # outside the period
    await Survey.create(organization_id=org.id, kind="nps", account_id=web, due_at=datetime.now(UTC))  # unanswered

    period = {"from": "2026-10-01", "to": "2026-11-30"}
    [total] = (await owner.data(api, FIGURES, {"p": period}))["surveyFigures"]
    assert total["nps"] == {"score": 28.6, "responses": 7, "promoters": 4, "passives": 1, "detractors": 2}
    assert total["csat"] == {"score": 60.0, "responses": 5, "positive": 3}
    assert total["ces"] == {"score": 3.2, "responses": 5}

    months = (await owner.data(api, FIGURES, {"p": period, "by": ["MONTH"]}))["surveyFigures"]
    assert [(m["periodStart"], m["nps"]["score"], m["csat"]["score"]) for m in months] == [
        ("2026-10-01", 100.0, None),  # 3 promoters of 3
        ("2026-11-01", -25.0, 60.0),  # 1 promoter, 2 detractors of 4
    ]
    channels = (await owner.data(api, FIGURES, {"p": period, "by": ["CHANNEL"]}))["surveyFigures"]
    assert {c["channel"]: (c["nps"]["score"], c["ces"]["score"]) for c in channels} == {
        "sms": (-25.0, None),
        "viber": (100.0, 3.2),
    }
    sources = (await owner.data(api, FIGURES, {"p": period, "by": ["SOURCE"]}))["surveyFigures"]
    # website: 10, 9, 6 -> (2-1)/3 = 33.3; ads: 9, 9, 8, 3 -> (2-1)/4 = 25.0
    assert {s["source"]: s["nps"]["score"] for s in sources} == {"ads": 25.0, "website": 33.3}
    bad = await owner.execute(api, FIGURES, {"p": {"from": "2026-11-30", "to": "2026-10-01"}})
    assert bad["errors"][0]["extensions"]["code"] == "BAD_REQUEST"

    # A saved segment's customers only: "Реклама" lives in Київ.
    await Account.filter(id=ads).update(addresses=["Київ, вул. Садова, 3"])
    create = "mutation($i: CreateSegmentInput!) { createSegment(input: $i) { segment { id } errors { code } } }"
    made = await owner.data(api, create, {"i": {"name": "Київ", "rules": {"cities": ["Київ"]}}})
    segment_id = made["createSegment"]["segment"]["id"]
    by_segment = """query($p: SurveyPeriod!, $s: ID) { surveyFigures(period: $p, segmentId: $s) {
      nps { score responses promoters passives detractors } csat { responses } } }"""
    [kyiv] = (await owner.data(api, by_segment, {"p": period, "s": segment_id}))["surveyFigures"]
    assert kyiv["nps"] == {"score": 25.0, "responses": 4, "promoters": 2, "passives": 1, "detractors": 1}
    assert kyiv["csat"]["responses"] == 0  # the support answers were the other customer's


async def test_an_answer_after_midnight_in_kyiv_counts_in_the_new_month(shop):
    order = await delivered(shop)
    survey = await Survey.get(order_id=ids.decode(order["id"])[1])
    # 22:30 UTC on 31 October is 00:30 on 1 November in Kyiv (UTC+2 in winter).
    at = datetime(2026, 10, 31, 22, 30, tzinfo=UTC)
    await service.link_sent(survey.id, "token-for-the-test", "viber", at - timedelta(days=1))
    answer = service.parse_answer("nps", {"nps": "10"})
    assert await service.answer("token-for-the-test", answer, "uk", now=at) == "answered"
    assert (await Survey.get(id=survey.id)).answered_on == date(2026, 11, 1)
    figures = await shop.owner.data(shop.api, FIGURES, {"p": {"from": "2026-11-01", "to": "2026-11-01"}, "by": ["DAY"]})
    assert [(f["periodStart"], f["nps"]["responses"]) for f in figures["surveyFigures"]] == [("2026-11-01", 1)]


async def test_another_organization_sees_no_survey_and_no_figures(shop, api, tenants):
    order = await delivered(shop)
    await shop.drain(minutes=DAYS_3 + 10)
    [(_, text)] = survey_messages(shop)
    assert await answer_link(shop, text, {"nps": "2"}) == 200
    mine = await shop.owner.data(shop.api, SURVEYS, {"w": None})
    assert mine["surveys"]["totalCount"] == 1
    survey_id = mine["surveys"]["edges"][0]["node"]["id"]

    other = (await tenants.create(("owner", "sales"))).owner
    theirs = await other.data(api, SURVEYS, {"w": None})
    assert theirs["surveys"]["totalCount"] == 0
    assert (await other.data(api, "query($id: ID!) { node(id: $id) { id } }", {"id": survey_id}))["node"] is None
    today = datetime.now(ZoneInfo("Europe/Kyiv")).date().isoformat()
    [total] = (await other.data(api, FIGURES, {"p": {"from": today, "to": today}}))["surveyFigures"]
    assert total["nps"]["responses"] == 0 and total["nps"]["score"] is None
    body = await other.execute(api, "query($id: ID!) { order(id: $id) { survey { id } } }", {"id": order["id"]})
    assert body["data"]["order"] is None
    # A salesperson of the same shop who does not own the customer sees nothing either.
    sales = await shop_member(shop, tenants, "sales")
    assert (await sales.data(api, SURVEYS, {"w": None}))["surveys"]["totalCount"] == 0


async def test_a_role_that_may_not_see_account_sources_may_not_split_figures_by_them(shop, api, tenants):
    logistics = await shop_member(shop, tenants, "logistics")
    today = datetime.now(ZoneInfo("Europe/Kyiv")).date().isoformat()
    by_source = await logistics.execute(api, FIGURES, {"p": {"from": today, "to": today}, "by": ["SOURCE"]})
    assert by_source["data"]["surveyFigures"] is None
    assert by_source["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    by_channel = await logistics.data(api, FIGURES, {"p": {"from": today, "to": today}, "by": ["CHANNEL"]})
    assert isinstance(by_channel["surveyFigures"], list)


async def shop_member(shop: Shop, tenants, role: str):
    from tests.helpers import Tenant

    return await tenants.add(Tenant(slug=shop.owner.org), f"{role}-x", role)


async def test_survey_settings_switch_nps_off_and_reject_bad_values(shop):
    update = """mutation($i: UpdateSurveySettingsInput!) { updateSurveySettings(input: $i) {
      settings { npsEnabled npsDelayDays linkDays } errors { field code } } }"""
    bad = await shop.owner.data(shop.api, update, {"i": {"npsDelayDays": 99, "linkDays": 0, "npsStatus": " "}})
    assert sorted(e["field"] for e in bad["updateSurveySettings"]["errors"]) == [
        "linkDays",
        "npsDelayDays",
        "npsStatus",
    ]
    off = await shop.owner.data(shop.api, update, {"i": {"npsEnabled": False}})
    assert off["updateSurveySettings"]["settings"] == {"npsEnabled": False, "npsDelayDays": 3, "linkDays": 30}
    order = await delivered(shop)
    await shop.drain(minutes=DAYS_3 + 10)
    assert await Survey.filter(order_id=ids.decode(order["id"])[1]).count() == 0
    assert survey_messages(shop) == []


async def test_the_demo_shop_has_answered_surveys_and_figures(api, database):
    from server.demo.seed import DEMO_PASSWORD, DEMO_SLUG, demo_email, seed_demo
    from tests.helpers import Member

    # Another test may have loaded it first: then it is already there.
    result = await seed_demo(postgres=database.is_postgres)
    assert not result.created or result.surveys > 10
    login = await api.data(
        "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token } }",
        {"e": demo_email("owner"), "p": DEMO_PASSWORD},
    )
    owner = Member(demo_email("owner"), "owner", login["login"]["token"], "", DEMO_SLUG)
    answered = await owner.data(api, SURVEYS.replace("first: 50", "first: 100"), {"w": {"answered": True}})
    kinds = {e["node"]["kind"] for e in answered["surveys"]["edges"]}
    assert answered["surveys"]["totalCount"] > 5 and kinds == {"NPS", "SUPPORT"}
    unhappy = [e["node"] for e in answered["surveys"]["edges"] if e["node"]["detractor"]]
    assert unhappy and all(s["followUpTask"]["kind"] == "TASK" for s in unhappy)
    today = datetime.now(ZoneInfo("Europe/Kyiv")).date()
    period = {"from": (today - timedelta(days=120)).isoformat(), "to": today.isoformat()}
    [total] = (await owner.data(api, FIGURES, {"p": period}))["surveyFigures"]
    assert total["nps"]["responses"] > 0 and total["csat"]["responses"] > 0 and total["ces"]["score"] is not None


async def test_the_survey_list_costs_the_same_statements_for_10_and_40_answers(api, tenants):
    from tests.helpers import QueryCounter
    from tests.test_orders import make_account

    owner = (await tenants.create(("owner",))).owner
    org = await Organization.get(slug=owner.org)
    account = ids.decode(await make_account(owner, api), "Account")[1]
    for i in range(40):
        await hand_made(org.id, account, "nps", date(2026, 11, 1 + i % 28), "viber", nps=i % 11)
    page = SURVEYS.replace("first: 50", "first: $n").replace(
        "query($w: SurveyWhere)", "query($w: SurveyWhere, $n: Int)"
    )
    counts = {}
    for n in (10, 40):
        with QueryCounter() as q:
            data = await owner.data(api, page, {"w": None, "n": n})
        assert len(data["surveys"]["edges"]) == n
        counts[n] = q.count
    assert counts[10] == counts[40], counts
