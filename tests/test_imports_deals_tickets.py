"""Importing deals (a Bitrix24 deals export) and tickets (a helpdesk spreadsheet with a column
mapping): the dry run, the import, the same file again, undo, problems per row in Ukrainian and
English, another organization, and a role without the right to create deals."""

from __future__ import annotations

import base64
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from server.accounts.models import Account
from server.auth.models import User
from server.deals.models import Deal
from server.imports.models import ImportRecord
from server.jobs.inprocess import run_until_idle
from server.organizations.models import Organization
from server.tickets.models import Ticket
from tests.test_imports import BATCH, DATA, START, UNDO

TICKET_MAPPING = {
    "Номер": "external_id",
    "Тема": "subject",
    "Опис": "description",
    "Статус": "status",
    "Пріоритет": "priority",
    "Канал": "channel",
    "Створено": "created_at",
    "Клієнт": "customer_name",
    "Телефон клієнта": "customer_phone",
    "Email клієнта": "customer_email",
    "Виконавець": "assignee_email",
    "Теги": "tags",
}


def _file(name: str) -> dict:
    return {"fileName": name, "contentBase64": base64.b64encode((DATA / name).read_bytes()).decode()}


async def _import(api, member, database, inputs: dict) -> dict:
    started = await member.data(api, START, {"i": inputs})
    assert started["startImport"]["errors"] == [], started
    await run_until_idle(database)
    return (await member.data(api, BATCH, {"id": started["startImport"]["batch"]["id"]}))["importBatch"]


async def _live_deals(org_id) -> int:
    return await Deal.filter(organization_id=org_id, deleted_at=None).count()


async def test_bitrix24_deals_dry_run_import_again_and_undo(api, database, tenants):
    shop = await tenants.create(("owner", "sales"))
    other = await tenants.create(("owner",))
    owner = shop.owner
    org = await Organization.get(slug=shop.slug)
    other_org = await Organization.get(slug=other.slug)
    deals_file = {"kind": "DEALS", "preset": "bitrix24", **_file("bitrix24_deals.csv")}  # Windows-1251, ";"
    accounts_before = await Account.filter(organization_id=org.id, deleted_at=None).count()

    dry = await _import(api, owner, database, {**deals_file, "dryRun": True})
    assert (dry["status"], dry["kind"], dry["rowsTotal"], dry["rowsDone"]) == ("done", "DEALS", 5, 5)
    assert (dry["createdCount"], dry["matchedCount"], dry["failedCount"]) == (3, 0, 2)
    assert [(p["row"], p["field"], p["code"]) for p in dry["problems"]] == [
        (4, "stage", "INVALID"),  # 203: a stage the pipeline does not have
        (5, "title", "REQUIRED"),  # 204: no title
    ]
    # Ukrainian, the organization's language, with the stages it does know.
    assert "Невідома стадія «Невідома стадія» у воронці «Продажі»" in dry["problems"][0]["message"]
    assert "Пропозиція" in dry["problems"][0]["message"]
    assert dry["problems"][1]["message"] == "У рядку немає назви."
    assert await _live_deals(org.id) == 0  # a dry run keeps nothing
    assert await Account.filter(organization_id=org.id, deleted_at=None).count() == accounts_before

    done = await _import(api, owner, database, deals_file)
    assert (done["system"], done["createdCount"], done["matchedCount"], done["failedCount"]) == ("bitrix24", 3, 0, 2)
    deals = {d.title: d for d in await Deal.filter(organization_id=org.id, deleted_at=None)}
    assert set(deals) == {"Оптове замовлення чашок", "Брендовані сумки для кав'ярні", "Щомісячна підписка на каву"}
    cups = deals["Оптове замовлення чашок"]
    await cups.fetch_related("stage", "pipeline", "account")
    owner_user = await User.get(email=owner.email)
    assert (cups.stage.name, cups.pipeline.name, cups.amount, cups.currency) == (
        "Пропозиція",
        "Продажі",
        Decimal("12500.00"),
        "UAH",
    )
    assert cups.owner_id == owner_user.id and cups.source == "Веб-сайт"  # "Відповідальний" by the member's name
    assert cups.created_at == datetime(2024, 2, 12, 10, 30, tzinfo=ZoneInfo("Europe/Kyiv"))
    assert cups.expected_close_date == date(2024, 2, 29)
    assert cups.account.name == "Олена Коваль" and cups.account.phones == ["+380671112233"]
    bags = deals["Брендовані сумки для кав'ярні"]
    await bags.fetch_related("stage", "account")
    assert bags.stage.kind == "won" and bags.closed_at is not None
    assert bags.account.name == "ТОВ «Сумки»"  # no contact: the company is the customer
    lost = deals["Щомісячна підписка на каву"]
    await lost.fetch_related("stage")
    assert lost.stage.kind == "lost" and lost.lost_reason  # a reason is required: the import gives one

    again = await _import(api, owner, database, deals_file)
    assert (again["createdCount"], again["matchedCount"], again["failedCount"]) == (0, 3, 2)
    assert await _live_deals(org.id) == 3  # running it twice changes nothing
    assert await _live_deals(other_org.id) == 0  # another organization untouched
    assert (await other.owner.data(api, BATCH, {"id": done["id"]}))["importBatch"] is None

    # Someone moved on with one deal: undo keeps it (and its customer), removes the rest.
    await Deal.filter(id=cups.id).update(version=2)
    undone = await owner.data(api, UNDO, {"id": done["id"]})
    assert undone["undoImport"]["errors"] == []
    await run_until_idle(database)
    after = (await owner.data(api, BATCH, {"id": done["id"]}))["importBatch"]
    assert after["status"] == "undone"
    assert [(p["field"], p["code"], p["message"]) for p in after["problems"]] == [
        ("deal", "KEPT", str(cups.id)),
        ("account", "KEPT", str(cups.account_id)),
    ]
    assert [d.id for d in await Deal.filter(organization_id=org.id, deleted_at=None)] == [cups.id]
    assert not await Account.filter(id=bags.account_id, deleted_at=None).exists()
    assert not await ImportRecord.filter(organization_id=org.id, kind="deal", object_id=bags.id).exists()
    redo = await _import(api, owner, database, deals_file)
    assert (redo["createdCount"], redo["failedCount"]) == (2, 2)  # undone deals can be imported again


async def test_tickets_with_a_mapping_in_english(api, database, tenants):
    shop = await tenants.create(("owner",))
    org = await Organization.get(slug=shop.slug)
    await Organization.filter(id=org.id).update(locale="en")
    tickets_file = {"kind": "TICKETS", "mapping": TICKET_MAPPING, **_file("helpdesk_tickets.csv")}

    dry = await _import(api, shop.owner, database, {**tickets_file, "dryRun": True})
    assert (dry["createdCount"], dry["failedCount"]) == (2, 2)
    assert [(p["row"], p["field"], p["code"], p["message"]) for p in dry["problems"]] == [
        (4, "subject", "REQUIRED", "The row has no subject."),
        (5, "status", "INVALID", "Unknown status 'Дивний статус'; known: new, open, pending, resolved, closed."),
    ]
    assert await Ticket.filter(organization_id=org.id).count() == 0

    done = await _import(api, shop.owner, database, tickets_file)
    assert (done["createdCount"], done["matchedCount"], done["failedCount"]) == (2, 0, 2), done
    tickets = {t.subject: t for t in await Ticket.filter(organization_id=org.id)}
    parcel = tickets["Пошкоджена посилка"]
    await parcel.fetch_related("account")
    owner_user = await User.get(email=shop.owner.email)
    assert (parcel.status, parcel.priority, parcel.channel) == ("open", "high", "phone")
    assert parcel.description == "Коробка прийшла пом'ята, чашка розбита"
    assert parcel.tags == ["доставка", "повернення"] and parcel.assignee_id == owner_user.id
    assert parcel.created_at == datetime(2024, 3, 5, 9, 0, tzinfo=ZoneInfo("Europe/Kyiv"))
    assert parcel.account.phones == ["+380671112233"]
    refund = tickets["Повернення коштів за сумку"]
    assert refund.status == "resolved" and refund.resolved_at == refund.created_at

    again = await _import(api, shop.owner, database, tickets_file)
    assert (again["createdCount"], again["matchedCount"]) == (0, 2)
    assert await Ticket.filter(organization_id=org.id).count() == 2

    await shop.owner.data(api, UNDO, {"id": done["id"]})
    await run_until_idle(database)
    after = (await shop.owner.data(api, BATCH, {"id": done["id"]}))["importBatch"]
    assert (after["status"], after["problems"]) == ("undone", [])
    assert await Ticket.filter(organization_id=org.id).count() == 0
    assert await Account.filter(organization_id=org.id, deleted_at=None).count() == 0


async def test_a_role_without_deals_create_is_refused(api, database, tenants):
    from server.roles.models import CustomRole

    shop = await tenants.create(("owner",))
    org = await Organization.get(slug=shop.slug)
    grants = ["data:import", "accounts:read", "accounts:create", "deals:read", "tickets:read"]
    await CustomRole.create(organization=org, name="importer", permissions=grants, hidden_fields=[])
    importer = await tenants.add(shop, "importer", "importer")
    for kind, file in (("DEALS", "bitrix24_deals.csv"), ("TICKETS", "helpdesk_tickets.csv")):
        inputs = {"kind": kind, "preset": "bitrix24" if kind == "DEALS" else None, **_file(file)}
        if kind == "TICKETS":
            inputs["mapping"] = TICKET_MAPPING
        refused = await importer.execute(api, START, {"i": inputs})
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN", refused
    assert await Deal.filter(organization_id=org.id).count() == 0


async def test_bad_deal_mappings_say_everything_at_once(api, tenants):
    shop = await tenants.create(("owner",))
    csv = "Назва,Етап\nУгода,Новий лід\n".encode()
    body = {"kind": "DEALS", "mapping": {"Назва": "subject", "Етап": "stage"}, "fileName": "d.csv"}
    body["contentBase64"] = base64.b64encode(csv).decode()
    errors = (await shop.owner.data(api, START, {"i": body}))["startImport"]["errors"]
    messages = [e["message"] for e in errors]
    assert "«subject» — не поле для deals." in messages  # a tickets field is not a deals one
    assert {e["code"] for e in errors} == {"INVALID", "REQUIRED"}  # title and customer unmapped too


async def test_keycrm_pipeline_cards_import_as_deals(api, database, tenants):
    shop = await tenants.create(("owner",))
    org = await Organization.get(slug=shop.slug)
    cards = {"kind": "DEALS", "preset": "keycrm", **_file("keycrm_deals.csv")}
    dry = await _import(api, shop.owner, database, {**cards, "dryRun": True})
    assert (dry["createdCount"], dry["failedCount"]) == (2, 1)
    assert [(p["row"], p["field"], p["code"]) for p in dry["problems"]] == [(4, "stage", "INVALID")]
    assert await _live_deals(org.id) == 0
    done = await _import(api, shop.owner, database, cards)
    assert (done["system"], done["createdCount"], done["failedCount"]) == ("keycrm", 2, 1)
    deals = {d.title: d for d in await Deal.filter(organization_id=org.id, deleted_at=None)}
    coffee = deals["Кава для офісу"]
    await coffee.fetch_related("stage", "account")
    assert (coffee.stage.name, coffee.amount, coffee.source) == ("Пропозиція", Decimal("4800.00"), "Instagram")
    assert coffee.account.name == "Оксана Лисенко" and coffee.account.phones == ["+380671230011"]
    holidays = deals["Чайні набори до свят"]
    await holidays.fetch_related("stage")
    assert holidays.stage.kind == "won"
    again = await _import(api, shop.owner, database, cards)
    assert (again["createdCount"], again["matchedCount"]) == (0, 2)  # the card ids: nothing twice
