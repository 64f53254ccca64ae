"""The agents' inbox through GraphQL: customers' messages filed by the one entry point every
channel plugin uses (an ``InboundMessage`` applied with its webhook delivery), matching by phone
and leads, snooze/close/reopen, assignment and "assigned to me", unread counts, the first-reply
SLA, linking, turning a conversation into a ticket or a deal, permissions and tenancy, delivery
reports of replies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from plugins.simulators.telegram import BOT_TOKEN, TelegramSimulator
from server.conversations import service
from server.jobs.inprocess import run_until_idle
from server.plugins.types import InboundMessage, MessageStatus
from server.plugins.webhooks import record_and_apply
from tests.provider_plugins import install, row
from tests.test_accounts import make_account

LIST = """query($w: ConversationWhere) { conversations(first: 20, where: $w) { edges { node {
    id status unreadCount version phone displayName snoozedUntil firstResponseDueAt firstResponseAt
    account { id name tags } assignee { id } ticket { number subject description channel } deal { title }
    messages { direction text state } } } } }"""
ONE = """query($id: ID!) { conversation(id: $id) { id status unreadCount version } }"""
SUMMARY = "{ inboxSummary { open mine unassigned unread unreadMessages slaBreached } }"
PAYLOAD = "conversation { id status version unreadCount snoozedUntil assignee { id } } errors { field code message }"
SNOOZE = f"mutation($i: SnoozeConversationInput!) {{ snoozeConversation(input: $i) {{ {PAYLOAD} }} }}"
CLOSE = f"mutation($i: ConversationVersionInput!) {{ closeConversation(input: $i) {{ {PAYLOAD} }} }}"
REOPEN = f"mutation($i: ConversationVersionInput!) {{ reopenConversation(input: $i) {{ {PAYLOAD} }} }}"
ASSIGN = f"mutation($i: AssignConversationInput!) {{ assignConversation(input: $i) {{ {PAYLOAD} }} }}"
READ = f"mutation($i: MarkConversationReadInput!) {{ markConversationRead(input: $i) {{ {PAYLOAD} }} }}"
LINK = f"mutation($i: LinkConversationInput!) {{ linkConversationToAccount(input: $i) {{ {PAYLOAD} }} }}"
TO_TICKET = (
    f"mutation($i: ConvertConversationToTicketInput!) {{ convertConversationToTicket(input: $i) {{ {PAYLOAD} }} }}"
)
TO_DEAL = f"mutation($i: ConvertConversationToDealInput!) {{ convertConversationToDeal(input: $i) {{ {PAYLOAD} }} }}"
REPLY = """mutation($i: ReplyToConversationInput!) { replyToConversation(input: $i) {
    message { id state } errors { field code message } } }"""
TIMELINE = """query($id: ID!) { account(id: $id) { timeline(first: 20) { edges { node { kind subject body } } } } }"""


@pytest.fixture(scope="module")
def telegram_server():
    with TelegramSimulator() as sim:
        yield sim


@pytest.fixture
async def shop(tenants):
    return await tenants.create(("owner", "support", "analyst", "logistics"))


@pytest.fixture
async def installation(shop, api, telegram_server):
    # The webhook URL here is http://, which Telegram refuses: the installation works anyway.
    payload = await install(shop.owner, api, "telegram", {"api_url": telegram_server.url}, {"bot_token": BOT_TOKEN})
    return await row(payload)


_counter = iter(range(1, 10**6))


async def customer_writes(
    installation, text: str, *, address: str = "111", phone: str = "", name: str = "Ivan", message_id: str | None = None
) -> dict:
    """What a channel plugin's webhook hands the CRM, applied as every webhook delivery is."""
    message_id = message_id or str(next(_counter))
    event = InboundMessage(
        channel="telegram",
        address=address,
        provider_message_id=message_id,
        text=text,
        sender_name=name,
        phone=phone,
        phone_shared=bool(phone),
    )
    return await record_and_apply(installation, f"test:{address}:{message_id}:{next(_counter)}", "", [event])


async def inbox(member, api, where=None) -> list[dict]:
    return [e["node"] for e in (await member.data(api, LIST, {"w": where}))["conversations"]["edges"]]


async def act(member, api, mutation: str, **values) -> dict:
    data = await member.data(api, mutation, {"i": values})
    return next(iter(data.values()))


# -- filing messages -------------------------------------------------------------------


async def test_an_unknown_sender_becomes_a_lead_and_every_message_is_on_its_timeline(shop, api, installation):
    await customer_writes(installation, "Добрий день", name="Іван Петренко")
    await customer_writes(installation, "Чи є розмір M?", name="Іван Петренко")
    [conversation] = await inbox(shop.support, api)
    assert conversation["account"]["name"] == "Іван Петренко" and conversation["account"]["tags"] == ["lead"]
    assert [m["text"] for m in conversation["messages"]] == ["Добрий день", "Чи є розмір M?"]
    assert conversation["unreadCount"] == 2
    timeline = (await shop.support.data(api, TIMELINE, {"id": conversation["account"]["id"]}))["account"]
    bodies = [e["node"]["body"] for e in timeline["timeline"]["edges"] if e["node"]["kind"] == "MESSAGE"]
    assert sorted(bodies) == ["Добрий день", "Чи є розмір M?"]
    subjects = {e["node"]["subject"] for e in timeline["timeline"]["edges"] if e["node"]["kind"] == "MESSAGE"}
    assert subjects == {"Telegram: повідомлення від Іван Петренко"}


async def test_a_known_phone_links_the_conversation_to_its_account(shop, api, installation):
    account = await make_account(shop.owner, api, name="Олена Коваль", phones=["+380671234567"])
    await customer_writes(installation, "+380671234567", phone="380671234567")
    [conversation] = await inbox(shop.support, api)
    assert conversation["account"]["id"] == account["id"] and conversation["phone"] == "+380671234567"


async def test_a_contact_persons_phone_links_the_company_but_does_not_vouch_for_it(shop, api, installation):
    company = await make_account(shop.owner, api, name="ТОВ Ромашка", phones=["+380443334023"])
    await shop.owner.data(
        api,
        "mutation($i: CreateContactInput!) { createContact(input: $i) { errors { code } } }",
        {"i": {"accountId": company["id"], "name": "Марія", "phones": ["+380671234567"]}},
    )
    await customer_writes(installation, "Добрий день", phone="380671234567")
    [conversation] = await inbox(shop.support, api)
    assert conversation["account"]["id"] == company["id"]  # no lead: the agent sees the company
    confirmed = await shop.support.data(
        api, "query($id: ID!) { conversation(id: $id) { accountConfirmed } }", {"id": conversation["id"]}
    )
    # Only the account's own number proves whose chat it is (the bot shows orders only then).
    assert confirmed["conversation"]["accountConfirmed"] is False


async def test_a_lead_learns_the_phone_it_shares_later(shop, api, installation):
    await customer_writes(installation, "Привіт")
    await customer_writes(installation, "+380501112233", phone="+380501112233")
    [conversation] = await inbox(shop.support, api)
    found = await shop.support.data(
        api, '{ accounts(first: 5, where: {phone: {eq: "+380501112233"}}) { edges { node { id } } } }'
    )
    assert [e["node"]["id"] for e in found["accounts"]["edges"]] == [conversation["account"]["id"]]


async def test_the_same_provider_message_is_filed_once_even_under_another_delivery(shop, api, installation):
    await customer_writes(installation, "раз", message_id="77")
    result = await customer_writes(installation, "раз", message_id="77")
    assert result == "applied"  # a new delivery record, but the message is already there
    [conversation] = await inbox(shop.support, api)
    assert [m["text"] for m in conversation["messages"]] == ["раз"] and conversation["unreadCount"] == 1


async def test_two_customers_are_two_conversations(shop, api, installation):
    await customer_writes(installation, "a", address="1")
    await customer_writes(installation, "b", address="2")
    assert len(await inbox(shop.support, api)) == 2


# -- the agent's moves -------------------------------------------------------------------


async def test_snooze_hides_until_the_time_or_the_next_message(shop, api, installation):
    await customer_writes(installation, "Перша")
    [conversation] = await inbox(shop.support, api)
    late = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    payload = await act(shop.support, api, SNOOZE, id=conversation["id"], version=conversation["version"], until=late)
    assert payload["errors"] == [] and payload["conversation"]["status"] == "SNOOZED"
    assert await inbox(shop.support, api, {"status": {"eq": "OPEN"}}) == []
    # The time comes: it is back.
    assert await service.wake_snoozed(datetime.now(UTC) + timedelta(hours=3)) >= 1
    [back] = await inbox(shop.support, api, {"status": {"eq": "OPEN"}})
    assert back["snoozedUntil"] is None
    # Snoozed again, then the customer writes: back at once.
    await act(shop.support, api, SNOOZE, id=back["id"], version=back["version"], until=late)
    await customer_writes(installation, "Ще питання")
    [back] = await inbox(shop.support, api, {"status": {"eq": "OPEN"}})
    assert back["unreadCount"] == 2


async def test_snoozing_into_the_past_or_with_a_stale_version_is_refused(shop, api, installation):
    await customer_writes(installation, "Питання")
    [conversation] = await inbox(shop.support, api)
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    payload = await act(shop.support, api, SNOOZE, id=conversation["id"], version=conversation["version"], until=past)
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("until", "INVALID")]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    stale = await act(
        shop.support, api, SNOOZE, id=conversation["id"], version=conversation["version"] - 1, until=future
    )
    assert [e["code"] for e in stale["errors"]] == ["CONFLICT"]


async def test_closing_and_a_new_message_reopens_with_a_new_first_reply_clock(shop, api, installation):
    await customer_writes(installation, "Питання")
    [conversation] = await inbox(shop.support, api)
    closed = await act(shop.support, api, CLOSE, id=conversation["id"], version=conversation["version"])
    assert closed["conversation"]["status"] == "CLOSED" and closed["conversation"]["unreadCount"] == 0
    again = await act(shop.support, api, CLOSE, id=conversation["id"], version=closed["conversation"]["version"])
    assert [e["code"] for e in again["errors"]] == ["FORBIDDEN_TRANSITION"]
    await customer_writes(installation, "Ще одне")
    [reopened] = await inbox(shop.support, api)
    assert reopened["status"] == "OPEN" and reopened["firstResponseAt"] is None
    assert reopened["firstResponseDueAt"] > conversation["firstResponseDueAt"]
    closed = await act(shop.support, api, CLOSE, id=reopened["id"], version=reopened["version"])
    opened = await act(shop.support, api, REOPEN, id=reopened["id"], version=closed["conversation"]["version"])
    assert opened["conversation"]["status"] == "OPEN"


async def test_assignment_mine_unread_and_the_summary(shop, api, installation):
    await customer_writes(installation, "a", address="1")
    await customer_writes(installation, "b", address="2")
    await customer_writes(installation, "c", address="2")
    first, second = await inbox(shop.support, api)
    payload = await act(
        shop.owner, api, ASSIGN, id=first["id"], version=first["version"], assigneeId=shop.support.user_id
    )
    assert payload["conversation"]["assignee"]["id"] == shop.support.user_id
    assert [c["id"] for c in await inbox(shop.support, api, {"assignedToMe": True})] == [first["id"]]
    assert [c["id"] for c in await inbox(shop.owner, api, {"assignedToMe": True})] == []
    assert await shop.support.data(api, SUMMARY) == {
        "inboxSummary": {"open": 2, "mine": 1, "unassigned": 1, "unread": 2, "unreadMessages": 3, "slaBreached": 0}
    }
    await act(shop.support, api, READ, id=second["id"])
    assert [c["id"] for c in await inbox(shop.support, api, {"unread": True})] == [first["id"]]
    # Nobody who does not work in the inbox can be given one.
    refused = await act(
        shop.owner, api, ASSIGN, id=second["id"], version=second["version"], assigneeId=shop.logistics.user_id
    )
    assert [(e["field"], e["code"]) for e in refused["errors"]] == [("assigneeId", "NOT_FOUND")]


async def test_an_agent_links_a_conversation_and_later_messages_land_on_that_account(shop, api, installation):
    await customer_writes(installation, "Це Олена")
    [conversation] = await inbox(shop.support, api)
    account = await make_account(shop.owner, api, name="Олена Коваль")
    payload = await act(
        shop.support, api, LINK, id=conversation["id"], version=conversation["version"], accountId=account["id"]
    )
    assert payload["errors"] == []
    await customer_writes(installation, "Мій номер замовлення 42")
    timeline = (await shop.support.data(api, TIMELINE, {"id": account["id"]}))["account"]["timeline"]["edges"]
    assert [e["node"]["body"] for e in timeline if e["node"]["kind"] == "MESSAGE"] == ["Мій номер замовлення 42"]


async def test_a_conversation_becomes_a_ticket_and_a_deal_once(shop, api, installation):
    await customer_writes(installation, "Товар прийшов пошкоджений")
    [conversation] = await inbox(shop.support, api)
    payload = await act(shop.support, api, TO_TICKET, id=conversation["id"], version=conversation["version"])
    assert payload["errors"] == []
    [conversation] = await inbox(shop.owner, api)
    assert conversation["ticket"]["subject"] == "Товар прийшов пошкоджений"
    assert conversation["ticket"]["channel"] == "MESSENGER"
    assert "> Товар прийшов пошкоджений" in conversation["ticket"]["description"]
    twice = await act(shop.support, api, TO_TICKET, id=conversation["id"], version=conversation["version"])
    assert [e["code"] for e in twice["errors"]] == ["INVALID"]
    # Support may not open deals; the owner may.
    refused = await shop.support.execute(
        api, TO_DEAL, {"i": {"id": conversation["id"], "version": conversation["version"]}}
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    deal = await act(shop.owner, api, TO_DEAL, id=conversation["id"], version=conversation["version"], title="Заміна")
    assert deal["errors"] == []
    [conversation] = await inbox(shop.owner, api)
    assert conversation["deal"]["title"] == "Заміна"


# -- input, permissions, tenancy --------------------------------------------------------------


async def test_a_bad_reply_lists_every_problem(shop, api, installation):
    await customer_writes(installation, "Питання")
    [conversation] = await inbox(shop.support, api)
    variables = {
        "i": {
            "conversationId": conversation["id"],
            "text": "x" * 5000,
            "attachments": [{"url": "javascript:alert(1)"}, {"url": "ftp://files/a.pdf"}],
        }
    }
    payload = (await shop.support.data(api, REPLY, variables))["replyToConversation"]
    assert sorted(e["field"] for e in payload["errors"]) == ["attachments.0.url", "attachments.1.url", "text"]
    empty = await shop.support.data(api, REPLY, {"i": {"conversationId": conversation["id"], "text": "  "}})
    assert [(e["field"], e["code"]) for e in empty["replyToConversation"]["errors"]] == [("text", "REQUIRED")]


async def test_roles_and_organizations_see_only_what_they_may(shop, api, tenants, installation):
    await customer_writes(installation, "Питання", phone="+380671234500")
    [conversation] = await inbox(shop.analyst, api)  # analysts read the inbox...
    assert conversation["phone"] == "+38067*****00"  # ...with customers' numbers masked
    refused = await shop.analyst.execute(api, REPLY, {"i": {"conversationId": conversation["id"], "text": "Hi"}})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    hidden = await shop.logistics.execute(api, LIST)
    assert hidden["data"]["conversations"] is None and hidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    other = (await tenants.create(("owner",))).owner
    assert (await other.data(api, ONE, {"id": conversation["id"]}))["conversation"] is None
    stranger = await other.data(api, REPLY, {"i": {"conversationId": conversation["id"], "text": "Hi"}})
    assert [e["code"] for e in stranger["replyToConversation"]["errors"]] == ["NOT_FOUND"]


async def test_delivery_reports_move_a_reply_forward_only(shop, api, installation, telegram_server, database):
    telegram_server.reset()
    await customer_writes(installation, "Питання", address="5000000123")
    telegram_server.started.setdefault(BOT_TOKEN, set()).add(5000000123)  # the user wrote to the bot
    [conversation] = await inbox(shop.support, api)
    reply = await shop.support.data(api, REPLY, {"i": {"conversationId": conversation["id"], "text": "Відповідь"}})
    assert reply["replyToConversation"]["errors"] == []
    await run_until_idle(database, now=datetime.now(UTC) + timedelta(seconds=5))
    [message] = telegram_server.messages_to(5000000123)
    provider_id = str(message["message_id"])
    for status in ("read", "delivered"):
        await record_and_apply(installation, f"status:{status}", "", [MessageStatus(provider_id, status)])
        await run_until_idle(database, now=datetime.now(UTC) + timedelta(seconds=5))
    [conversation] = await inbox(shop.support, api)
    assert conversation["messages"][-1] == {"direction": "OUT", "text": "Відповідь", "state": "READ"}
