"""Support tickets through GraphQL: CRUD, numbering, SLA, the status machine, comments,
assignment, concurrency, idempotency, lists, roles and tenant isolation."""

from datetime import UTC, datetime, timedelta

import pytest

from server.activities.models import Activity
from server.audit.models import AuditEntry
from server.core.models import OutboxEvent
from server.graphql import ids
from server.organizations.models import Organization
from server.tickets.models import Ticket, TicketComment
from tests.helpers import QueryCounter

# Its assertions read the API's messages in English (conftest.py: the english marker).
pytestmark = pytest.mark.english

TICKET_FIELDS = """id number subject description channel priority status version nextStatuses
    createdAt updatedAt firstResponseDueAt resolutionDueAt firstResponseAt resolvedAt slaBreached
    account { id name } contact { id name } assignee { id email }
    comments { id body isPublic createdAt author { email } }"""

ERRORS = "errors { field code message }"
CREATE = f"""mutation($i: CreateTicketInput!) {{ createTicket(input: $i) {{
    ticket {{ {TICKET_FIELDS} }} {ERRORS} }} }}"""
UPDATE = f"""mutation($i: UpdateTicketInput!) {{ updateTicket(input: $i) {{
    ticket {{ {TICKET_FIELDS} }} {ERRORS} }} }}"""
STATUS = f"""mutation($i: ChangeTicketStatusInput!) {{ changeTicketStatus(input: $i) {{
    ticket {{ {TICKET_FIELDS} }} {ERRORS} }} }}"""
ASSIGN = f"""mutation($i: AssignTicketInput!) {{ assignTicket(input: $i) {{
    ticket {{ {TICKET_FIELDS} }} {ERRORS} }} }}"""
COMMENT = f"""mutation($i: CommentOnTicketInput!) {{ commentOnTicket(input: $i) {{
    comment {{ id body isPublic author {{ email }} }} ticket {{ {TICKET_FIELDS} }} {ERRORS} }} }}"""
DELETE = f"""mutation($i: DeleteTicketInput!) {{ deleteTicket(input: $i) {{ deletedTicketId {ERRORS} }} }}"""
GET = f"query($id: ID!) {{ ticket(id: $id) {{ {TICKET_FIELDS} }} }}"
NODE = "query($id: ID!) { node(id: $id) { id ... on Ticket { number } } }"
LIST = """query($first: Int, $after: String, $where: TicketWhere, $orderBy: TicketOrder) {
    tickets(first: $first, after: $after, where: $where, orderBy: $orderBy) {
        totalCount edges { cursor node { id number subject status priority } }
        pageInfo { hasNextPage endCursor } } }"""
SLA = "{ slaPolicies { priority firstResponseMinutes resolutionMinutes } }"
UPDATE_SLA = f"""mutation($i: UpdateSlaPolicyInput!) {{ updateSlaPolicy(input: $i) {{
    slaPolicy {{ priority firstResponseMinutes resolutionMinutes }} {ERRORS} }} }}"""


def ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


def pk(global_id: str):
    return ids.decode(global_id)[1]


async def make_account(member, api, name="Олена Коваль"):
    data = await member.data(
        api,
        "mutation($i: CreateAccountInput!) { createAccount(input: $i) { account { id } errors { code } } }",
        {"i": {"name": name, "phones": ["0671234567"]}},
    )
    return data["createAccount"]["account"]["id"]


async def make_contact(member, api, account_id, name="Ірина"):
    data = await member.data(
        api,
        "mutation($i: CreateContactInput!) { createContact(input: $i) { contact { id } errors { code } } }",
        {"i": {"accountId": account_id, "name": name}},
    )
    return data["createContact"]["contact"]["id"]


async def create(member, api, subject="Не працює оплата", **extra) -> dict:
    body = await member.data(api, CREATE, {"i": {"subject": subject, **extra}})
    return body["createTicket"]


async def ticket(member, api, ticket_id) -> dict | None:
    return (await member.data(api, GET, {"id": ticket_id}))["ticket"]


async def move(member, api, t: dict, status: str) -> dict:
    body = await member.data(api, STATUS, {"i": {"id": t["id"], "version": t["version"], "status": status}})
    return body["changeTicketStatus"]


async def comment(member, api, ticket_id, body="Дякуємо, перевіряємо.", public=True) -> dict:
    data = await member.data(api, COMMENT, {"i": {"ticketId": ticket_id, "body": body, "isPublic": public}})
    return data["commentOnTicket"]


def codes(body: dict) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors") or []]


async def audit_actions(ticket_id: str) -> list[str]:
    rows = await AuditEntry.filter(entity_id=pk(ticket_id)).order_by("created_at", "id")
    return [r.action for r in rows]


async def topics(ticket_id: str) -> list[str]:
    rows = await OutboxEvent.filter(topic__startswith="ticket.").order_by("created_at", "id")
    return [r.topic for r in rows if r.payload.get("ticket_id") == str(pk(ticket_id))]


# -- CRUD ----------------------------------------------------------------------------


async def test_create_read_update_delete(api, tenants):
    t = await tenants.create(("owner", "support"))
    account = await make_account(t.owner, api)
    contact = await make_contact(t.owner, api, account)
    created = await create(
        t.support,
        api,
        subject="  Не приходить SMS  ",
        description="Клієнт не отримує SMS про відправку.",
        channel="PHONE",
        priority="HIGH",
        accountId=account,
        contactId=contact,
    )
    assert created["errors"] == []
    tk = created["ticket"]
    assert tk["number"] == 1
    assert tk["subject"] == "Не приходить SMS"
    assert (tk["channel"], tk["priority"], tk["status"]) == ("PHONE", "HIGH", "NEW")
    assert tk["account"] == {"id": account, "name": "Олена Коваль"}
    assert tk["contact"] == {"id": contact, "name": "Ірина"}
    assert tk["assignee"] is None  # support's new tickets wait in the queue
    assert tk["version"] == 1
    assert tk["nextStatuses"] == ["OPEN", "PENDING", "RESOLVED", "CLOSED"]
    assert tk["firstResponseAt"] is None and tk["resolvedAt"] is None
    assert tk["slaBreached"] is False
    assert tk["comments"] == []

    assert await ticket(t.support, api, tk["id"]) == tk
    assert (await t.support.data(api, NODE, {"id": tk["id"]}))["node"] == {"id": tk["id"], "number": 1}

    # The account's timeline shows the new ticket.
    timeline = await t.support.data(
        api,
        "query($id: ID!) { account(id: $id) { tickets { edges { node { id } } } "
        "timeline { edges { node { kind subject ticket { id } } } } } }",
        {"id": account},
    )
    assert timeline["account"]["tickets"]["edges"] == [{"node": {"id": tk["id"]}}]
    assert timeline["account"]["timeline"]["edges"] == [
        {"node": {"kind": "TICKET", "subject": "Ticket #1: Не приходить SMS", "ticket": {"id": tk["id"]}}}
    ]

    updated = await t.support.data(
        api,
        UPDATE,
        {"i": {"id": tk["id"], "version": 1, "subject": "SMS не доходять", "channel": "EMAIL", "description": ""}},
    )
    assert updated["updateTicket"]["errors"] == []
    after = updated["updateTicket"]["ticket"]
    assert (after["subject"], after["channel"], after["description"], after["version"]) == (
        "SMS не доходять",
        "EMAIL",
        "",
        2,
    )
    assert after["priority"] == "HIGH" and after["firstResponseDueAt"] == tk["firstResponseDueAt"]

    blank = await t.support.data(api, UPDATE, {"i": {"id": tk["id"], "version": 2, "subject": "   "}})
    assert blank["updateTicket"]["errors"] == [
        {"field": "subject", "code": "REQUIRED", "message": "subject is required."}
    ]

    await comment(t.support, api, tk["id"])
    current = await ticket(t.support, api, tk["id"])
    deleted = await t.support.data(api, DELETE, {"i": {"id": tk["id"], "version": current["version"]}})
    assert deleted["deleteTicket"] == {"deletedTicketId": tk["id"], "errors": []}
    assert await ticket(t.support, api, tk["id"]) is None
    assert not await Ticket.filter(id=pk(tk["id"])).exists()
    assert not await TicketComment.filter(ticket_id=pk(tk["id"])).exists()
    # The timeline keeps its history; the entry no longer points at a ticket.
    entry = await Activity.get(account_id=pk(account), kind="ticket")
    assert entry.ticket_id is None

    assert await audit_actions(tk["id"]) == [
        "ticket.create",
        "ticket.update",
        "ticket.comment",
        "ticket.delete",
    ]
    created_entry = await AuditEntry.get(entity_id=pk(tk["id"]), action="ticket.create")
    assert created_entry.changes["subject"] == [None, "Не приходить SMS"]
    assert created_entry.actor_id == str(pk(t.support.user_id))
    deleted_entry = await AuditEntry.get(entity_id=pk(tk["id"]), action="ticket.delete")
    assert deleted_entry.changes["subject"] == ["SMS не доходять", None]
    assert await topics(tk["id"]) == [
        "ticket.created",
        "ticket.updated",
        "ticket.status_changed",
        "ticket.commented",
        "ticket.deleted",
    ]


async def test_bad_input_is_rejected_and_nothing_is_written(api, tenants):
    t = await tenants.create(("support",))
    empty = await create(t.support, api, subject=" ")
    assert empty == {
        "ticket": None,
        "errors": [{"field": "subject", "code": "REQUIRED", "message": "subject is required."}],
    }
    long = await create(t.support, api, subject="x" * 301)
    assert long["errors"][0]["field"] == "subject" and long["errors"][0]["code"] == "INVALID"
    bad_id = await create(t.support, api, accountId="nonsense")
    assert bad_id["errors"][0] == {"field": "accountId", "code": "INVALID", "message": "'nonsense' is not a valid ID."}
    bad_enum = await t.support.execute(api, CREATE, {"i": {"subject": "a", "priority": "SOMEDAY"}})
    assert bad_enum["errors"] and bad_enum.get("data") is None
    assert (await t.support.data(api, LIST))["tickets"]["totalCount"] == 0


async def test_contact_must_belong_to_the_account(api, tenants):
    t = await tenants.create(("owner", "support"))
    a = await make_account(t.owner, api, "Перший")
    b = await make_account(t.owner, api, "Другий")
    contact_a = await make_contact(t.owner, api, a, "Марко")
    contact_b = await make_contact(t.owner, api, b, "Леся")

    wrong = await create(t.support, api, accountId=a, contactId=contact_b)
    assert wrong["ticket"] is None
    assert wrong["errors"][0]["field"] == "contactId" and wrong["errors"][0]["code"] == "INVALID"

    # A contact alone brings its account.
    only_contact = (await create(t.support, api, contactId=contact_a))["ticket"]
    assert only_contact["account"]["id"] == a and only_contact["contact"]["id"] == contact_a

    # Moving to another account while the old contact stays is refused...
    moved = await t.support.data(api, UPDATE, {"i": {"id": only_contact["id"], "version": 1, "accountId": b}})
    assert moved["updateTicket"]["errors"][0]["field"] == "contactId"
    # ...moving with a contact of the new account works.
    moved = await t.support.data(
        api, UPDATE, {"i": {"id": only_contact["id"], "version": 1, "accountId": b, "contactId": contact_b}}
    )
    assert moved["updateTicket"]["errors"] == []
    assert moved["updateTicket"]["ticket"]["account"]["id"] == b
    cleared = await t.support.data(
        api, UPDATE, {"i": {"id": only_contact["id"], "version": 2, "accountId": None, "contactId": None}}
    )
    assert cleared["updateTicket"]["ticket"]["account"] is None
    assert cleared["updateTicket"]["ticket"]["contact"] is None


# -- numbering, idempotency, versions ------------------------------------------------


async def test_numbers_count_per_organization(api, tenants):
    t = await tenants.create(("support",))
    other = await tenants.create(("support",))
    numbers = [(await create(t.support, api, f"Питання {i}"))["ticket"]["number"] for i in range(3)]
    assert numbers == [1, 2, 3]
    assert (await create(other.support, api))["ticket"]["number"] == 1
    # A deleted ticket's number is not reused.
    third = (await t.support.data(api, LIST, {"where": {"number": {"eq": 3}}}))["tickets"]["edges"][0]["node"]
    await t.support.data(api, DELETE, {"i": {"id": third["id"], "version": 1}})
    assert (await create(t.support, api))["ticket"]["number"] == 4


async def test_idempotent_create_returns_the_first_ticket(api, tenants):
    t = await tenants.create(("support",))
    a = await create(t.support, api, idempotencyKey="call-7781")
    b = await create(t.support, api, idempotencyKey="call-7781")
    assert a["ticket"]["id"] == b["ticket"]["id"]
    assert b["ticket"]["subject"] == "Не працює оплата"
    other = await create(t.support, api, subject="Інша тема", idempotencyKey="call-7781")
    assert other["ticket"] is None and other["errors"][0]["code"] == "IDEMPOTENCY_MISMATCH"
    assert (await t.support.data(api, LIST))["tickets"]["totalCount"] == 1
    c = await create(t.support, api, idempotencyKey="call-7782")
    assert c["ticket"]["number"] == 2
    too_long = await create(t.support, api, idempotencyKey="k" * 129)
    assert too_long["errors"][0]["field"] == "idempotencyKey"


async def test_stale_version_is_a_conflict_and_changes_nothing(api, tenants):
    t = await tenants.create(("support",))
    tk = (await create(t.support, api))["ticket"]
    first = await t.support.data(api, UPDATE, {"i": {"id": tk["id"], "version": 1, "priority": "LOW"}})
    assert first["updateTicket"]["ticket"]["version"] == 2
    for mutation, payload, extra in (
        (UPDATE, "updateTicket", {"subject": "Нова тема"}),
        (STATUS, "changeTicketStatus", {"status": "OPEN"}),
        (ASSIGN, "assignTicket", {"assigneeId": t.support.user_id}),
        (DELETE, "deleteTicket", {}),
    ):
        stale = await t.support.data(api, mutation, {"i": {"id": tk["id"], "version": 1, **extra}})
        assert stale[payload]["errors"][0]["code"] == "CONFLICT", payload
        assert stale[payload]["errors"][0]["field"] == "version"
    now = await ticket(t.support, api, tk["id"])
    assert (now["subject"], now["status"], now["assignee"], now["version"]) == (tk["subject"], "NEW", None, 2)


# -- SLA -----------------------------------------------------------------------------


async def test_due_dates_follow_the_priority_sla(api, tenants):
    t = await tenants.create(("admin", "support"))
    policies = (await t.support.data(api, SLA))["slaPolicies"]
    assert policies == [
        {"priority": "URGENT", "firstResponseMinutes": 30, "resolutionMinutes": 240},
        {"priority": "HIGH", "firstResponseMinutes": 60, "resolutionMinutes": 480},
        {"priority": "NORMAL", "firstResponseMinutes": 240, "resolutionMinutes": 1440},
        {"priority": "LOW", "firstResponseMinutes": 480, "resolutionMinutes": 4320},
    ]
    urgent = (await create(t.support, api, priority="URGENT"))["ticket"]
    low = (await create(t.support, api, priority="LOW"))["ticket"]
    for tk, first, resolution in ((urgent, 30, 240), (low, 480, 72 * 60)):
        created = ts(tk["createdAt"])
        assert ts(tk["firstResponseDueAt"]) - created == timedelta(minutes=first)
        assert ts(tk["resolutionDueAt"]) - created == timedelta(minutes=resolution)

    # Raising the priority recomputes the due dates from the creation time.
    raised = await t.support.data(api, UPDATE, {"i": {"id": low["id"], "version": 1, "priority": "URGENT"}})
    raised = raised["updateTicket"]["ticket"]
    assert ts(raised["firstResponseDueAt"]) - ts(low["createdAt"]) == timedelta(minutes=30)
    assert ts(raised["resolutionDueAt"]) - ts(low["createdAt"]) == timedelta(minutes=240)
    entry = await AuditEntry.get(entity_id=pk(low["id"]), action="ticket.update")
    assert entry.changes["priority"] == ["low", "urgent"]
    assert "resolution_due_at" in entry.changes

    # Admins change a policy; new tickets use it, existing ones keep their dates.
    changed = await t.admin.data(
        api, UPDATE_SLA, {"i": {"priority": "URGENT", "firstResponseMinutes": 15, "resolutionMinutes": 120}}
    )
    assert changed["updateSlaPolicy"] == {
        "slaPolicy": {"priority": "URGENT", "firstResponseMinutes": 15, "resolutionMinutes": 120},
        "errors": [],
    }
    fresh = (await create(t.support, api, priority="URGENT"))["ticket"]
    assert ts(fresh["firstResponseDueAt"]) - ts(fresh["createdAt"]) == timedelta(minutes=15)
    assert (await ticket(t.support, api, urgent["id"]))["firstResponseDueAt"] == urgent["firstResponseDueAt"]
    assert (await t.support.data(api, SLA))["slaPolicies"][0]["firstResponseMinutes"] == 15
    org = await Organization.get(slug=t.slug)
    assert await AuditEntry.filter(organization_id=org.id, action="sla_policy.update").count() == 1

    bad = await t.admin.data(
        api, UPDATE_SLA, {"i": {"priority": "LOW", "firstResponseMinutes": 600, "resolutionMinutes": 60}}
    )
    assert bad["updateSlaPolicy"]["errors"][0]["field"] == "firstResponseMinutes"
    zero = await t.admin.data(
        api, UPDATE_SLA, {"i": {"priority": "LOW", "firstResponseMinutes": 0, "resolutionMinutes": 60}}
    )
    assert zero["updateSlaPolicy"]["errors"][0]["code"] == "INVALID"
    # Support reads the targets but may not change them.
    refused = await t.support.execute(
        api, UPDATE_SLA, {"i": {"priority": "LOW", "firstResponseMinutes": 5, "resolutionMinutes": 60}}
    )
    assert codes(refused) == ["FORBIDDEN"]


async def test_sla_breached_when_overdue_or_met_late(api, tenants):
    t = await tenants.create(("support",))
    on_time = (await create(t.support, api, "Вчасно"))["ticket"]
    await comment(t.support, api, on_time["id"])
    assert (await ticket(t.support, api, on_time["id"]))["slaBreached"] is False

    overdue = (await create(t.support, api, "Прострочено"))["ticket"]
    past = datetime.now(UTC) - timedelta(minutes=5)
    await Ticket.filter(id=pk(overdue["id"])).update(first_response_due_at=past)
    assert (await ticket(t.support, api, overdue["id"]))["slaBreached"] is True

    late = (await create(t.support, api, "Запізно"))["ticket"]
    await Ticket.filter(id=pk(late["id"])).update(first_response_due_at=past)
    await comment(t.support, api, late["id"])
    # Answered, but after the due time: still a breach.
    assert (await ticket(t.support, api, late["id"]))["slaBreached"] is True

    overdue_list = await t.support.data(api, LIST, {"where": {"overdue": True}})
    assert [e["node"]["subject"] for e in overdue_list["tickets"]["edges"]] == ["Прострочено"]
    not_overdue = await t.support.data(
        api, LIST, {"where": {"overdue": False}, "orderBy": {"field": "NUMBER", "direction": "ASC"}}
    )
    assert [e["node"]["subject"] for e in not_overdue["tickets"]["edges"]] == ["Вчасно", "Запізно"]


# -- status machine ------------------------------------------------------------------


async def test_status_machine(api, tenants):
    t = await tenants.create(("support",))
    tk = (await create(t.support, api))["ticket"]

    pending = await move(t.support, api, tk, "PENDING")
    assert pending["errors"] == []
    tk = pending["ticket"]
    assert (tk["status"], tk["version"], tk["nextStatuses"]) == ("PENDING", 2, ["OPEN", "RESOLVED", "CLOSED"])

    tk = (await move(t.support, api, tk, "OPEN"))["ticket"]
    resolved = (await move(t.support, api, tk, "RESOLVED"))["ticket"]
    assert resolved["status"] == "RESOLVED" and resolved["resolvedAt"] is not None
    assert resolved["nextStatuses"] == ["OPEN", "CLOSED"]

    # A forbidden move is a user error and leaves the ticket as it was.
    refused = await move(t.support, api, resolved, "PENDING")
    assert refused == {
        "ticket": None,
        "errors": [
            {
                "field": "status",
                "code": "FORBIDDEN_TRANSITION",
                "message": "A ticket cannot go from 'resolved' to 'pending' (allowed: open, closed).",
            }
        ],
    }
    assert await ticket(t.support, api, tk["id"]) == resolved
    same = await move(t.support, api, resolved, "RESOLVED")
    assert same["errors"][0]["code"] == "FORBIDDEN_TRANSITION"

    closed = (await move(t.support, api, resolved, "CLOSED"))["ticket"]
    assert closed["resolvedAt"] == resolved["resolvedAt"]  # closing keeps when it was resolved
    assert closed["nextStatuses"] == ["OPEN"]
    assert (await move(t.support, api, closed, "NEW"))["errors"][0]["code"] == "FORBIDDEN_TRANSITION"

    reopened = (await move(t.support, api, closed, "OPEN"))["ticket"]
    assert reopened["status"] == "OPEN" and reopened["resolvedAt"] is None

    # Closing straight from NEW also counts as done.
    other = (await create(t.support, api, "Спам"))["ticket"]
    assert (await move(t.support, api, other, "CLOSED"))["ticket"]["resolvedAt"] is not None

    statuses = [
        e.changes["status"]
        for e in await AuditEntry.filter(entity_id=pk(tk["id"]), action="ticket.status").order_by("created_at", "id")
    ]
    assert statuses == [
        ["new", "pending"],
        ["pending", "open"],
        ["open", "resolved"],
        ["resolved", "closed"],
        ["closed", "open"],
    ]
    events = [
        (e.payload["from"], e.payload["to"])
        for e in await OutboxEvent.filter(topic="ticket.status_changed").order_by("created_at", "id")
        if e.payload["ticket_id"] == str(pk(tk["id"]))
    ]
    assert events == [tuple(s) for s in statuses]


# -- comments ------------------------------------------------------------------------


async def test_first_public_reply_is_the_first_response(api, tenants):
    t = await tenants.create(("support", "analyst"))
    tk = (await create(t.support, api))["ticket"]

    note = await comment(t.support, api, tk["id"], "Схоже на збій шлюзу", public=False)
    assert note["errors"] == []
    assert note["comment"]["isPublic"] is False
    assert note["ticket"]["firstResponseAt"] is None
    assert (note["ticket"]["status"], note["ticket"]["version"]) == ("NEW", 1)

    reply = await comment(t.support, api, tk["id"], "Вітаю! Вже перевіряємо.")
    assert reply["errors"] == []
    after = reply["ticket"]
    assert after["firstResponseAt"] is not None
    assert (after["status"], after["version"]) == ("OPEN", 2)

    again = await comment(t.support, api, tk["id"], "Виправлено.")
    assert again["ticket"]["firstResponseAt"] == after["firstResponseAt"]
    assert again["ticket"]["version"] == 2

    shown = await ticket(t.analyst, api, tk["id"])
    assert [(c["body"], c["isPublic"], c["author"]["email"]) for c in shown["comments"]] == [
        ("Схоже на збій шлюзу", False, t.support.email),
        ("Вітаю! Вже перевіряємо.", True, t.support.email),
        ("Виправлено.", True, t.support.email),
    ]
    empty = await comment(t.support, api, tk["id"], "  ")
    assert empty["errors"][0] == {"field": "body", "code": "REQUIRED", "message": "body is required."}

    events = [
        e for e in await OutboxEvent.filter(topic="ticket.commented") if e.payload["ticket_id"] == str(pk(tk["id"]))
    ]
    assert sorted((e.payload["is_public"], "body" in e.payload) for e in events) == [
        (False, False),  # internal notes are not relayed to the customer
        (True, True),
        (True, True),
    ]
    assert (await audit_actions(tk["id"])).count("ticket.comment") == 3


async def test_reply_to_a_pending_ticket_keeps_its_status(api, tenants):
    t = await tenants.create(("support",))
    tk = (await create(t.support, api))["ticket"]
    tk = (await move(t.support, api, tk, "PENDING"))["ticket"]
    reply = await comment(t.support, api, tk["id"])
    assert reply["ticket"]["status"] == "PENDING"
    assert reply["ticket"]["firstResponseAt"] is not None


# -- assignment ----------------------------------------------------------------------


async def test_assignment(api, tenants):
    t = await tenants.create(("support", "sales"))
    colleague = await tenants.add(t, "colleague", "support", "support")
    stranger = (await tenants.create(("support",))).support
    tk = (await create(t.support, api))["ticket"]

    assigned = await t.support.data(api, ASSIGN, {"i": {"id": tk["id"], "version": 1, "assigneeId": colleague.user_id}})
    assert assigned["assignTicket"]["errors"] == []
    assert assigned["assignTicket"]["ticket"]["assignee"] == {"id": colleague.user_id, "email": colleague.email}
    assert assigned["assignTicket"]["ticket"]["version"] == 2

    outsider = await t.support.data(api, ASSIGN, {"i": {"id": tk["id"], "version": 2, "assigneeId": stranger.user_id}})
    assert outsider["assignTicket"]["errors"][0]["code"] == "NOT_FOUND"
    assert outsider["assignTicket"]["errors"][0]["field"] == "assigneeId"
    missing = await t.support.data(api, ASSIGN, {"i": {"id": tk["id"], "version": 2}})
    assert missing["assignTicket"]["errors"][0]["code"] == "REQUIRED"

    unassigned = await t.support.data(api, ASSIGN, {"i": {"id": tk["id"], "version": 2, "assigneeId": None}})
    assert unassigned["assignTicket"]["ticket"]["assignee"] is None
    changes = [
        e.changes["assignee_id"]
        for e in await AuditEntry.filter(entity_id=pk(tk["id"]), action="ticket.assign").order_by("created_at", "id")
    ]
    colleague_pk = str(pk(colleague.user_id))
    assert changes == [[None, colleague_pk], [colleague_pk, None]]
    events = [
        e.payload
        for e in await OutboxEvent.filter(topic="ticket.assigned")
        if e.payload["ticket_id"] == str(pk(tk["id"]))
    ]
    assert sorted((e["from"] or "", e["to"] or "") for e in events) == sorted([("", colleague_pk), (colleague_pk, "")])

    # Assigning on create.
    mine = (await create(t.support, api, assigneeId=t.support.user_id))["ticket"]
    assert mine["assignee"]["email"] == t.support.email


# -- lists ---------------------------------------------------------------------------


async def test_filters_ordering_and_pagination(api, tenants):
    t = await tenants.create(("owner", "support"))
    colleague = await tenants.add(t, "colleague", "support", "support")
    account = await make_account(t.owner, api)
    specs = [
        ("Оплата карткою", "URGENT", "PHONE", account, t.support.user_id),
        ("Доставка затримується", "LOW", "EMAIL", None, colleague.user_id),
        ("Повернення товару", "NORMAL", "CHAT", account, None),
        ("Оплата частинами", "HIGH", "MESSENGER", None, None),
        ("Питання з сайту", "NORMAL", "WEB", None, t.support.user_id),
    ]
    made = []
    for subject, priority, channel, acc, assignee in specs:
        extra = {"priority": priority, "channel": channel}
        if acc:
            extra["accountId"] = acc
        if assignee:
            extra["assigneeId"] = assignee
        made.append((await create(t.support, api, subject, **extra))["ticket"])
    await move(t.support, api, made[1], "RESOLVED")
    await move(t.support, api, made[3], "PENDING")

    async def subjects(where=None, order_by=None, first=None):
        variables = {"where": where, "orderBy": order_by or {"field": "NUMBER", "direction": "ASC"}, "first": first}
        data = await t.support.data(api, LIST, variables)
        return [e["node"]["subject"] for e in data["tickets"]["edges"]]

    assert await subjects({"status": {"eq": "NEW"}}) == ["Оплата карткою", "Повернення товару", "Питання з сайту"]
    assert await subjects({"status": {"in": ["RESOLVED", "PENDING"]}}) == ["Доставка затримується", "Оплата частинами"]
    assert await subjects({"priority": {"in": ["URGENT", "HIGH"]}}) == ["Оплата карткою", "Оплата частинами"]
    assert await subjects({"channel": {"eq": "EMAIL"}}) == ["Доставка затримується"]
    assert await subjects({"assignee": {"eq": t.support.user_id}}) == ["Оплата карткою", "Питання з сайту"]
    assert await subjects({"account": {"eq": account}}) == ["Оплата карткою", "Повернення товару"]
    assert await subjects({"number": {"gte": 2, "lte": 3}}) == ["Доставка затримується", "Повернення товару"]
    assert await subjects({"subject": {"contains": "Оплата"}}) == ["Оплата карткою", "Оплата частинами"]
    assert await subjects({"unassigned": True}) == ["Повернення товару", "Оплата частинами"]
    assert len(await subjects({"unassigned": False})) == 3
    assert await subjects({"OR": [{"channel": {"eq": "WEB"}}, {"priority": {"eq": "LOW"}}]}) == [
        "Доставка затримується",
        "Питання з сайту",
    ]
    assert await subjects({"AND": [{"subject": {"contains": "Оплата"}}, {"status": {"eq": "NEW"}}]}) == [
        "Оплата карткою"
    ]
    assert len(await subjects({"createdAt": {"gte": made[0]["createdAt"]}})) == 5
    assert await subjects({"createdAt": {"lt": made[0]["createdAt"]}}) == []
    bad = await t.support.execute(api, LIST, {"where": {"account": {"eq": t.support.user_id}}})
    assert codes(bad) == ["BAD_REQUEST"]

    assert await subjects(order_by={"field": "NUMBER", "direction": "DESC"}, first=2) == [
        "Питання з сайту",
        "Оплата частинами",
    ]
    newest = await subjects(order_by={"field": "CREATED_AT", "direction": "DESC"})
    assert newest == [s[0] for s in reversed(specs)]
    # The most recently changed first: the pending one, then the resolved one.
    assert (await subjects(order_by={"field": "UPDATED_AT", "direction": "DESC"}))[:2] == [
        "Оплата частинами",
        "Доставка затримується",
    ]

    seen, after = [], None
    while True:
        page = (
            await t.support.data(
                api, LIST, {"first": 2, "after": after, "orderBy": {"field": "NUMBER", "direction": "ASC"}}
            )
        )["tickets"]
        assert page["totalCount"] == 5
        seen += [e["node"]["number"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [1, 2, 3, 4, 5]


async def test_ticket_list_does_not_query_per_row(api, tenants):
    t = await tenants.create(("support",))
    org = await Organization.get(slug=t.slug)
    user_id = pk(t.support.user_id)
    page = """query($n: Int!) { tickets(first: $n) { edges { node {
        id number status slaBreached assignee { email } account { name }
        comments { body author { email } } } } } }"""
    counts = {}
    for n in (3, 12):
        existing = await Ticket.filter(organization_id=org.id).count()
        for i in range(existing, n):
            tk = await Ticket.create(organization_id=org.id, number=i + 1, subject=f"T{i}", assignee_id=user_id)
            await TicketComment.create(organization_id=org.id, ticket_id=tk.id, author_id=user_id, body="a")
            await TicketComment.create(organization_id=org.id, ticket_id=tk.id, author_id=user_id, body="b")
        with QueryCounter() as q:
            data = await t.support.data(api, page, {"n": n})
        assert len(data["tickets"]["edges"]) == n
        assert all(len(e["node"]["comments"]) == 2 for e in data["tickets"]["edges"])
        counts[n] = q.count
    assert counts[3] == counts[12], counts


# -- roles ---------------------------------------------------------------------------


async def test_roles(api, tenants):
    t = await tenants.create()
    tk = (await create(t.support, api))["ticket"]

    # Sales and logistics do not work tickets at all.
    for member in (t.sales, t.logistics):
        assert codes(await member.execute(api, LIST)) == ["FORBIDDEN"], member.role
        assert codes(await member.execute(api, GET, {"id": tk["id"]})) == ["FORBIDDEN"], member.role
        assert codes(await member.execute(api, CREATE, {"i": {"subject": "x"}})) == ["FORBIDDEN"], member.role
        assert codes(await member.execute(api, SLA)) == ["FORBIDDEN"], member.role

    # Analysts read everything and change nothing.
    assert (await ticket(t.analyst, api, tk["id"]))["id"] == tk["id"]
    assert len((await t.analyst.data(api, SLA))["slaPolicies"]) == 4
    for mutation, variables in (
        (CREATE, {"i": {"subject": "x"}}),
        (UPDATE, {"i": {"id": tk["id"], "version": 1, "subject": "x"}}),
        (UPDATE, {"i": {"id": tk["id"], "version": 1, "subject": " "}}),  # refused before validation
        (STATUS, {"i": {"id": tk["id"], "version": 1, "status": "OPEN"}}),
        (ASSIGN, {"i": {"id": tk["id"], "version": 1, "assigneeId": None}}),
        (COMMENT, {"i": {"ticketId": tk["id"], "body": "x"}}),
        (DELETE, {"i": {"id": tk["id"], "version": 1}}),
    ):
        assert codes(await t.analyst.execute(api, mutation, variables)) == ["FORBIDDEN"], mutation
    assert await ticket(t.support, api, tk["id"]) == tk

    # Owners and admins do everything.
    assert (await create(t.admin, api))["errors"] == []


async def test_manager_sees_and_assigns_within_the_team(api, tenants):
    t = await tenants.create(("support",))
    manager = await tenants.add(t, "lead", "manager", "desk")
    teammate = await tenants.add(t, "teammate", "support", "desk")  # in the manager's team
    team_ticket = (await create(t.support, api, "Командний", assigneeId=teammate.user_id))["ticket"]
    other_ticket = (await create(t.support, api, "Чужий", assigneeId=t.support.user_id))["ticket"]
    queued = (await create(t.support, api, "У черзі"))["ticket"]

    listed = await manager.data(api, LIST)
    assert [e["node"]["subject"] for e in listed["tickets"]["edges"]] == ["Командний"]
    assert await ticket(manager, api, other_ticket["id"]) is None
    assert await ticket(manager, api, queued["id"]) is None
    changed = await manager.data(api, UPDATE, {"i": {"id": other_ticket["id"], "version": 1, "subject": "x"}})
    assert changed["updateTicket"]["errors"][0]["code"] == "NOT_FOUND"

    # A manager's own new ticket is theirs, so they keep seeing it.
    own = (await create(manager, api, "Від менеджера"))["ticket"]
    assert own["assignee"]["email"] == manager.email

    to_outsider = await manager.data(
        api, ASSIGN, {"i": {"id": team_ticket["id"], "version": 1, "assigneeId": t.support.user_id}}
    )
    assert to_outsider["assignTicket"]["errors"][0]["code"] == "FORBIDDEN"
    assert to_outsider["assignTicket"]["errors"][0]["field"] == "assigneeId"
    to_self = await manager.data(
        api, ASSIGN, {"i": {"id": team_ticket["id"], "version": 1, "assigneeId": manager.user_id}}
    )
    assert to_self["assignTicket"]["ticket"]["assignee"]["email"] == manager.email
    reply = await comment(manager, api, team_ticket["id"])
    assert reply["errors"] == [] and reply["ticket"]["status"] == "OPEN"


# -- tenant isolation ----------------------------------------------------------------


async def test_other_organizations_tickets_are_invisible_and_unchangeable(api, tenants):
    mine = await tenants.create(("owner", "support"))
    theirs = await tenants.create(("owner", "support"))
    their_account = await make_account(theirs.owner, api)
    foreign = (await create(theirs.support, api, "Їхній", accountId=their_account))["ticket"]
    await create(mine.support, api, "Наш")

    assert await ticket(mine.support, api, foreign["id"]) is None
    assert (await mine.support.data(api, NODE, {"id": foreign["id"]}))["node"] is None
    assert (await mine.owner.data(api, NODE, {"id": foreign["id"]}))["node"] is None
    listed = await mine.support.data(api, LIST)
    assert [e["node"]["subject"] for e in listed["tickets"]["edges"]] == ["Наш"]
    assert (await mine.support.data(api, LIST, {"where": {"number": {"eq": 1}}}))["tickets"]["totalCount"] == 1

    attempts = {
        "updateTicket": (UPDATE, {"id": foreign["id"], "version": 1, "subject": "зламано"}),
        "changeTicketStatus": (STATUS, {"id": foreign["id"], "version": 1, "status": "CLOSED"}),
        "assignTicket": (ASSIGN, {"id": foreign["id"], "version": 1, "assigneeId": mine.support.user_id}),
        "commentOnTicket": (COMMENT, {"ticketId": foreign["id"], "body": "привіт"}),
        "deleteTicket": (DELETE, {"id": foreign["id"], "version": 1}),
    }
    for name, (mutation, variables) in attempts.items():
        body = await mine.owner.data(api, mutation, {"i": variables})
        assert body[name]["errors"][0]["code"] == "NOT_FOUND", name
    # Nor can their account be attached to our ticket.
    borrowed = await create(mine.support, api, accountId=their_account)
    assert borrowed["errors"][0] == {"field": "accountId", "code": "NOT_FOUND", "message": "Account not found."}

    untouched = await ticket(theirs.support, api, foreign["id"])
    assert untouched == foreign
    assert await audit_actions(foreign["id"]) == ["ticket.create"]


async def test_tickets_go_only_to_people_who_work_on_tickets(api, tenants):
    t = await tenants.create(("support", "logistics"))
    tk = (await create(t.support, api))["ticket"]
    body = await t.support.data(
        api,
        """mutation($i: AssignTicketInput!) { assignTicket(input: $i) { ticket { id } errors { field code } } }""",
        {"i": {"id": tk["id"], "version": tk["version"], "assigneeId": t.logistics.user_id}},
    )
    assert body["assignTicket"]["errors"] == [{"field": "assigneeId", "code": "NOT_FOUND"}]
