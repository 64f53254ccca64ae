"""Importing a Bitrix24 contacts export and a KeyCRM orders export (sample files shipped in
tests/data/imports, written to look like the real exports): the dry run, the import, the same
file again, undo, and what a role without the right, or another organization, gets."""

from __future__ import annotations

import base64
import csv
import io
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook

from server.accounts.models import Account
from server.core.models import OutboxEvent
from server.graphql import ids
from server.jobs.inprocess import run_until_idle
from server.notifications.models import Notification
from server.orders.models import Order
from server.organizations.models import Organization

DATA = Path(__file__).parent / "data" / "imports"

START = """mutation($i: StartImportInput!) { startImport(input: $i) {
  batch { id status dryRun rowsTotal } errors { field code message } } }"""
BATCH = """query($id: ID!) { importBatch(id: $id) {
  id kind system status dryRun rowsTotal rowsDone createdCount matchedCount failedCount error
  problems { row field code message } } }"""
UNDO = """mutation($id: ID!) { undoImport(id: $id) { batch { id status } errors { field code message } } }"""
CREATE_ACCOUNT = """mutation($i: CreateAccountInput!) { createAccount(input: $i) { account { id } errors { code } } }"""
ACCOUNTS = """query($s: String!) { accounts(first: 20, where: {search: {contains: $s}}) {
  edges { node { name phones emails } } } }"""


def _file(name: str, content: bytes) -> dict:
    return {"fileName": name, "contentBase64": base64.b64encode(content).decode()}


def keycrm_orders_xlsx() -> bytes:
    """The KeyCRM sample as the workbook KeyCRM downloads (same rows as the CSV)."""
    book = Workbook()
    sheet = book.active
    with (DATA / "keycrm_orders.csv").open(encoding="utf-8") as handle:
        for row in csv.reader(handle):
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
async def shop(tenants):
    return await tenants.create(("owner", "sales", "analyst"))


async def _import(api, member, database, kind: str, preset: str, file: dict, dry_run: bool = False) -> dict:
    started = await member.data(api, START, {"i": {"kind": kind, "preset": preset, "dryRun": dry_run, **file}})
    assert started["startImport"]["errors"] == [], started
    batch = started["startImport"]["batch"]
    assert batch["status"] == "queued" and batch["dryRun"] is dry_run
    await run_until_idle(database)
    return (await member.data(api, BATCH, {"id": batch["id"]}))["importBatch"]


async def _accounts(org_slug: str) -> int:
    org = await Organization.get(slug=org_slug)
    return await Account.filter(organization_id=org.id, deleted_at=None).count()


async def test_bitrix24_contacts_dry_run_then_import_then_again(api, database, shop):
    owner = shop.owner
    made = await owner.data(api, CREATE_ACCOUNT, {"i": {"name": "Наталія Т.", "phones": ["+380935556677"]}})
    assert made["createAccount"]["errors"] == []
    contacts = _file("contacts.csv", (DATA / "bitrix24_contacts.csv").read_bytes())  # Windows-1251, ";"
    before = await _accounts(shop.slug)

    dry = await _import(api, owner, database, "ACCOUNTS", "bitrix24", contacts, dry_run=True)
    assert (dry["status"], dry["rowsTotal"], dry["rowsDone"]) == ("done", 5, 5)
    assert (dry["createdCount"], dry["matchedCount"], dry["failedCount"]) == (3, 1, 1)
    assert [(p["row"], p["field"], p["code"]) for p in dry["problems"]] == [(5, "emails.0", "INVALID")]
    assert "not-an-email" in dry["problems"][0]["message"]
    assert await _accounts(shop.slug) == before  # a dry run keeps nothing

    done = await _import(api, owner, database, "ACCOUNTS", "bitrix24", contacts)
    assert (done["system"], done["createdCount"], done["matchedCount"], done["failedCount"]) == ("bitrix24", 3, 1, 1)
    assert await _accounts(shop.slug) == before + 3
    olena = (await owner.data(api, ACCOUNTS, {"s": "Коваль"}))["accounts"]["edges"][0]["node"]
    assert olena == {
        "name": "Олена Іванівна Коваль",
        "phones": ["+380441234567", "+380671112233"],
        "emails": ["olena.koval@example.com"],
    }

    again = await _import(api, owner, database, "ACCOUNTS", "bitrix24", contacts)
    assert (again["createdCount"], again["matchedCount"], again["failedCount"]) == (0, 4, 1)
    assert await _accounts(shop.slug) == before + 3  # running it twice changes nothing


async def test_keycrm_orders_from_xlsx_keep_their_history_and_tell_no_customer(api, database, shop):
    owner = shop.owner
    await _import(
        api, owner, database, "ACCOUNTS", "bitrix24", _file("c.csv", (DATA / "bitrix24_contacts.csv").read_bytes())
    )
    org = await Organization.get(slug=shop.slug)
    events_before = await OutboxEvent.filter(organization_id=org.id, topic="order.created").count()

    batch = await _import(api, owner, database, "ORDERS", "keycrm", _file("orders.xlsx", keycrm_orders_xlsx()))
    assert (batch["rowsTotal"], batch["createdCount"], batch["matchedCount"], batch["failedCount"]) == (5, 2, 0, 2)
    problems = {(p["row"], p["field"], p["code"]) for p in batch["problems"]}
    assert (5, "status", "INVALID") in problems  # 5003: a status the organization does not have
    assert {(6, "items.0.title", "REQUIRED"), (6, "items.0.unitPrice", "INVALID")} <= problems  # 5004: both at once

    orders = {o.external_id: o for o in await Order.filter(organization_id=org.id, source="keycrm")}
    assert set(orders) == {"5001", "5002"}
    first = orders["5001"]
    await first.fetch_related("status", "account", "items")
    assert first.status.code == "delivered" and str(first.total) == "484.00"
    assert first.created_at == datetime(2024, 1, 10, 9, 15, tzinfo=ZoneInfo("Europe/Kyiv"))
    assert first.waybill_number == "20450000000001" and len(first.items) == 2
    assert first.account.name == "Олена Іванівна Коваль"  # the imported contact, matched by phone
    new_buyer = await orders["5002"].account
    assert new_buyer.phones == ["+380977778899"] and new_buyer.name == "Петро Сидоренко"
    # History, not news: no notification, no order.created for notification rules or webhooks.
    assert await Notification.filter(organization_id=org.id).count() == 0
    assert await OutboxEvent.filter(organization_id=org.id, topic="order.created").count() == events_before
    assert await OutboxEvent.filter(organization_id=org.id, topic="order.imported").count() == 2

    undone = await owner.data(api, UNDO, {"id": batch["id"]})
    assert undone["undoImport"]["errors"] == [] and undone["undoImport"]["batch"]["status"] == "undoing"
    await run_until_idle(database)
    after = (await owner.data(api, BATCH, {"id": batch["id"]}))["importBatch"]
    assert after["status"] == "undone" and after["problems"] == []
    assert await Order.filter(organization_id=org.id, source="keycrm", deleted_at=None).count() == 0
    assert not await Account.filter(id=new_buyer.id, deleted_at=None).exists()  # made by the import: gone
    assert await Account.filter(id=first.account.id, deleted_at=None).exists()  # the contacts import's: kept

    redo = await _import(api, owner, database, "ORDERS", "keycrm", _file("orders.xlsx", keycrm_orders_xlsx()))
    assert (redo["createdCount"], redo["failedCount"]) == (2, 2)  # undone ids can be imported again


async def test_a_changed_order_is_kept_by_undo(api, database, shop):
    owner = shop.owner
    batch = await _import(
        api, owner, database, "ORDERS", "keycrm", _file("o.csv", (DATA / "keycrm_orders.csv").read_bytes())
    )
    org = await Organization.get(slug=shop.slug)
    changed = await Order.get(organization_id=org.id, external_id="5002")
    await Order.filter(id=changed.id).update(version=2, comment="called the customer")
    await owner.data(api, UNDO, {"id": batch["id"]})
    await run_until_idle(database)
    after = (await owner.data(api, BATCH, {"id": batch["id"]}))["importBatch"]
    assert after["status"] == "undone"
    # The changed order stays, and so does the customer the import made for it; the rest is gone.
    assert [(p["field"], p["code"], p["message"]) for p in after["problems"]] == [
        ("order", "KEPT", str(changed.id)),
        ("account", "KEPT", str(changed.account_id)),
    ]
    assert await Order.filter(id=changed.id, deleted_at=None).exists()
    assert await Order.filter(organization_id=org.id, source="keycrm", deleted_at=None).count() == 1


async def test_bad_files_say_everything_at_once_and_start_nothing(api, shop):
    bad = await shop.owner.data(
        api,
        START,
        {
            "i": {
                "kind": "ORDERS",
                "mapping": {"Телефон": "customer_phone", "X": "nonsense"},
                **_file("o.csv", b"a,b\n1,2\n"),
            }
        },
    )
    errors = bad["startImport"]["errors"]
    assert bad["startImport"]["batch"] is None
    messages = " | ".join(e["message"] for e in errors)
    assert "«nonsense» — не поле для orders" in messages and "немає стовпця «Телефон»" in messages  # uk by default
    assert {e["code"] for e in errors} == {"INVALID", "REQUIRED"}  # and the unmapped required fields
    wrong = await shop.owner.data(api, START, {"i": {"kind": "ACCOUNTS", **_file("contacts.pdf", b"%PDF")}})
    assert wrong["startImport"]["errors"][0]["field"] == "fileName"


async def test_roles_without_the_right_and_other_organizations_see_nothing(api, database, tenants, shop):
    file = _file("contacts.csv", (DATA / "bitrix24_contacts.csv").read_bytes())
    for member in (shop.sales, shop.analyst):
        refused = await member.execute(api, START, {"i": {"kind": "ACCOUNTS", "preset": "bitrix24", **file}})
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    batch = await _import(api, shop.owner, database, "ACCOUNTS", "bitrix24", file)
    stranger = (await tenants.create(("owner",))).owner
    assert (await stranger.data(api, BATCH, {"id": batch["id"]}))["importBatch"] is None
    refused = await shop.sales.execute(api, BATCH, {"id": batch["id"]})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_an_import_in_ukrainian_and_english(api, shop):
    body = {"query": START, "variables": {"i": {"kind": "ACCOUNTS", **_file("contacts.txt", b"x")}}}
    auth = {"Authorization": f"Bearer {shop.owner.token}", "X-Organization": shop.slug}
    said = {}
    for lang in ("uk", "en"):
        response = await api.http.post("/graphql", json=body, headers={**auth, "Accept-Language": lang})
        said[lang] = response.json()["data"]["startImport"]["errors"][0]["message"]
    assert said["uk"].startswith("Імпортувати можна лише файли .csv і .xlsx")
    assert said["en"] == "Only .csv and .xlsx files can be imported, not 'contacts.txt'."


async def test_files_built_to_exhaust_memory_are_refused_cheaply(api, shop):
    """A tiny XLSX declaring a far-away cell, and a CSV with a header of 100,000 columns."""
    book = Workbook()
    sheet = book.active
    sheet["A1"], sheet["B1"], sheet["A2"], sheet["B2"] = "ПІБ", "Телефон", "Олена", "0671112233"
    sheet["XFD100000"] = "x"  # openpyxl would pad every row out to column 16,384
    far = io.BytesIO()
    book.save(far)
    # The far cell is simply outside the columns read: the real row is the only one.
    body = {"i": {"kind": "ACCOUNTS", "mapping": {"ПІБ": "name"}, "dryRun": True, **_file("far.xlsx", far.getvalue())}}
    started = (await shop.owner.data(api, START, body))["startImport"]
    assert started["errors"] == [] and started["batch"]["rowsTotal"] == 1
    wide = ("name" + "," * 100_000 + "x\n" + "a\n" * 2_000).encode()  # beyond GraphQL's input limits: the upload route
    auth = {"Authorization": f"Bearer {shop.owner.token}", "X-Organization": shop.slug}
    refused = await api.http.post(
        "/imports", params={"kind": "accounts", "fileName": "wide.csv"}, content=wide, headers=auth
    )
    assert refused.status_code == 400
    errors = refused.json()["errors"]
    assert [e["field"] for e in errors] == ["file"] and "200" in errors[0]["message"]  # at most 200 columns


async def test_a_large_file_goes_as_the_body_of_post_imports(api, database, shop, monkeypatch):
    from server.imports import service

    auth = {"Authorization": f"Bearer {shop.owner.token}", "X-Organization": shop.slug}
    started = await api.http.post(
        "/imports",
        params={"kind": "orders", "preset": "keycrm", "fileName": "orders.xlsx"},
        content=keycrm_orders_xlsx(),
        headers=auth,
    )
    assert started.status_code == 202, started.text
    await run_until_idle(database)
    batch = (await shop.owner.data(api, BATCH, {"id": started.json()["id"]}))["importBatch"]
    assert (batch["status"], batch["createdCount"], batch["failedCount"]) == ("done", 2, 2)

    bad = await api.http.post(
        "/imports", params={"kind": "invoices", "fileName": "x.csv"}, content=b"a\n1\n", headers=auth
    )
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "kind"
    sales = {"Authorization": f"Bearer {shop.sales.token}", "X-Organization": shop.slug}
    refused = await api.http.post(
        "/imports", params={"kind": "orders", "fileName": "o.csv"}, content=b"x", headers=sales
    )
    assert refused.status_code == 403
    anonymous = await api.http.post("/imports", params={"kind": "orders", "fileName": "o.csv"}, content=b"x")
    assert anonymous.status_code in (401, 403)
    monkeypatch.setattr(service, "MAX_FILE_BYTES", 1024)
    large = await api.http.post(
        "/imports", params={"kind": "orders", "fileName": "o.csv"}, content=b"x" * 4096, headers=auth
    )
    assert large.status_code == 413


async def test_an_undo_deletes_with_the_rights_of_whoever_asks_for_it(api, database, tenants, shop):
    from server.roles.models import CustomRole

    org = await Organization.get(slug=shop.slug)
    grants = ["data:import", "accounts:read", "accounts:create", "orders:read", "orders:create"]  # no deletes
    await CustomRole.create(organization=org, name="importer", permissions=grants, hidden_fields=[])
    importer = await tenants.add(shop, "importer", "importer")
    batch = await _import(
        api, shop.owner, database, "ORDERS", "keycrm", _file("o.csv", (DATA / "keycrm_orders.csv").read_bytes())
    )
    undone = await importer.data(api, UNDO, {"id": batch["id"]})
    assert undone["undoImport"]["errors"] == []
    await run_until_idle(database)
    after = (await shop.owner.data(api, BATCH, {"id": batch["id"]}))["importBatch"]
    assert after["status"] == "undone" and {p["code"] for p in after["problems"]} == {"KEPT"}
    assert await Order.filter(organization_id=org.id, source="keycrm", deleted_at=None).count() == 2  # nothing deleted


async def test_orders_find_a_customer_merged_since_the_first_import(api, database, shop):
    owner = shop.owner
    buyers = "ID покупця,ПІБ,Телефон\nB-1,Олена Коваль,+380671112233\nB-2,Олена К.,+380671112234\n".encode()
    await _import(api, owner, database, "ACCOUNTS", "keycrm", _file("buyers.csv", buyers))
    org = await Organization.get(slug=shop.slug)
    keep = await Account.get(organization_id=org.id, name="Олена Коваль")
    gone = await Account.get(organization_id=org.id, name="Олена К.")
    merge = """mutation($i: MergeAccountsInput!) { mergeAccounts(input: $i) { errors { code message } } }"""
    merged = await owner.data(
        api,
        merge,
        {
            "i": {
                "id": ids.encode("Account", keep.id),
                "version": keep.version,
                "mergeId": ids.encode("Account", gone.id),
            }
        },
    )
    assert merged["mergeAccounts"]["errors"] == []
    orders = (
        (DATA / "keycrm_orders.csv")
        .read_text(encoding="utf-8")
        .replace("B-1,Олена Коваль,+380671112233", "B-2,Олена К.,")
    )
    batch = await _import(api, owner, database, "ORDERS", "keycrm", _file("orders.csv", orders.encode()))
    assert batch["createdCount"] == 2, batch["problems"]
    first = await Order.get(organization_id=org.id, external_id="5001")
    assert first.account_id == keep.id  # buyer B-2's record followed the merge


async def test_a_file_that_is_not_what_its_name_says_is_a_clear_error(api, shop):
    import zipfile as zf

    not_a_book = io.BytesIO()
    with zf.ZipFile(not_a_book, "w") as archive:
        archive.writestr("[Content_Types].xml", "<not xml")
    for name, content in (("a.xlsx", b"plain text"), ("b.xlsx", not_a_book.getvalue())):
        body = {"i": {"kind": "ACCOUNTS", "mapping": {"ПІБ": "name"}, **_file(name, content)}}
        errors = (await shop.owner.data(api, START, body))["startImport"]["errors"]
        assert [(e["field"], e["code"]) for e in errors] == [("file", "INVALID")], (name, errors)
