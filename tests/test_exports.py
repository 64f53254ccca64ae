"""Exports of the main lists and of the whole organization: the filters of the list, the
caller's row scope, hidden and masked fields, CSV and XLSX with the same rows, expiring links
that only the right people can use, the full export without secrets, retries that double
nothing, and a constant number of statements per page. Run on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import openpyxl
import pytest

from server.auth.models import Membership, User
from server.exports import full, service
from server.exports.models import Export, ExportChunk
from server.graphql import ids
from server.jobs.housekeeping import housekeeping
from server.jobs.inprocess import run_until_idle
from server.organizations.models import Organization
from server.plugins.models import PluginInstallation
from tests.figures_helpers import new_account, order
from tests.helpers import QueryCounter

START = """mutation($i: StartExportInput!) { startExport(input: $i) {
  export { id status list format } errors { field code message } } }"""
START_FULL = """mutation { startOrganizationExport { export { id status format } errors { field code message } } }"""
EXPORTS = """{ exports(first: 20) { edges { node { id list format status rowsDone rowsTotal rowCount error fileName
  sizeBytes downloadUrl downloadPath expiresAt filters } } } }"""
AUDIT = """query($w: AuditEntryWhere) { auditEntries(first: 20, where: $w) { edges { node { action changes } } } }"""


async def gql(api, member, query: str, variables: dict | None = None, lang: str = "en") -> dict:
    response = await api.http.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {member.token}", "X-Organization": member.org, "Accept-Language": lang},
    )
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]


async def start(api, member, list_: str, fmt: str = "CSV", lang: str = "en", **filters) -> dict:
    payload = (await gql(api, member, START, {"i": {"list": list_, "format": fmt, **filters}}, lang))["startExport"]
    return payload


async def exported(api, member, settings, list_: str, fmt: str = "CSV", lang: str = "en", **filters) -> dict:
    """Start an export, run the jobs, and return the finished export as the API lists it."""
    payload = await start(api, member, list_, fmt, lang, **filters)
    assert payload["errors"] == [], payload
    await run_until_idle(settings)
    return await listed(api, member, payload["export"]["id"])


async def listed(api, member, export_id: str) -> dict:
    nodes = [e["node"] for e in (await gql(api, member, EXPORTS))["exports"]["edges"]]
    return next(n for n in nodes if n["id"] == export_id)


def bearer(member) -> dict:
    return {"Authorization": f"Bearer {member.token}", "X-Organization": member.org}


async def fetch(api, member, node: dict):
    return await api.http.get(node["downloadPath"], headers=bearer(member))


def _text(value) -> str:
    return "" if value is None else str(value)


def _number(text: str):
    try:
        return Decimal(text)
    except ArithmeticError:
        return None


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


@pytest.fixture
async def shop(api, tenants, database):
    """Owner's customers Анна (vip, e-mail) and Борис; the salesperson's own Дмитро; four orders,
    one of them the salesperson's."""
    t = await tenants.create(("owner", "admin", "sales", "logistics", "analyst", "support"))
    t.database = database
    anna = await new_account(
        t.owner,
        api,
        "Анна",
        phones=["+380671234599"],
        emails=["anna@example.com"],
        tags=["VIP"],
        addresses=["Київ, вул. Хрещатик, 1"],
    )
    borys = await new_account(t.owner, api, '=HYPERLINK("http://evil")', phones=["+380501112233"])
    dmytro = await new_account(t.sales, api, "Дмитро", phones=["+380631234567"])
    await order(t.owner, api, anna, "100")
    await order(t.owner, api, anna, "250")
    await order(t.owner, api, borys, "40")
    await order(t.sales, api, dmytro, "500")
    t.accounts = {"Анна": anna, "Борис": borys, "Дмитро": dmytro}
    return t


async def test_a_filtered_export_holds_exactly_the_filtered_rows_in_csv_and_xlsx(api, shop):
    where = {"total": {"gte": "100"}}
    order_by = {"field": "TOTAL", "direction": "ASC"}
    node = await exported(api, shop.owner, shop.database, "ORDERS", orders={"where": where, "orderBy": order_by})
    assert node["status"] == "DONE" and node["rowCount"] == 3 and node["rowsDone"] == node["rowsTotal"] == 3
    assert node["fileName"].endswith(".csv") and node["filters"]["where"] == {"total": {"gte": "100"}}
    response = await fetch(api, shop.owner, node)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = csv_rows(response.content)
    header = rows[0]
    assert header[:6] == ["ID", "Number", "Created", "Status", "Customer", "Total"]
    total = header.index("Total")
    assert [r[total] for r in rows[1:]] == ["100.00", "250.00", "500.00"]  # the list's filter and order
    # The same list the API shows.
    listed_ids = await gql(
        api,
        shop.owner,
        "query($w: OrderWhere, $o: OrderOrder) { orders(where: $w, orderBy: $o) { edges { node { id } } } }",
        {"w": where, "o": order_by},
    )
    assert [r[0] for r in rows[1:]] == [e["node"]["id"] for e in listed_ids["orders"]["edges"]]

    xlsx = await exported(
        api, shop.owner, shop.database, "ORDERS", "XLSX", orders={"where": where, "orderBy": order_by}
    )
    content = (await fetch(api, shop.owner, xlsx)).content
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).active
    cells = [[_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    assert len(cells) == len(rows)
    for cell_row, csv_row in zip(cells, rows, strict=True):
        assert len(cell_row) == len(csv_row)
        for cell, text in zip(cell_row, csv_row, strict=True):
            assert cell == text or (_number(cell) is not None and _number(cell) == _number(text)), (cell_row, csv_row)
    # Amounts are numbers in the sheet (a spreadsheet sums them), texts stay texts.
    first = next(sheet.iter_rows(min_row=2, max_row=2, values_only=True))
    assert isinstance(first[header.index("Total")], int | float) and isinstance(first[0], str)


async def test_headers_follow_the_requesters_language(api, shop):
    node = await exported(api, shop.owner, shop.database, "ACCOUNTS", lang="uk")
    header = csv_rows((await fetch(api, shop.owner, node)).content)[0]
    assert header[:3] == ["ID", "Ім'я", "Тип"] and "Телефони" in header
    node = await exported(api, shop.owner, shop.database, "ACCOUNTS", lang="en")
    assert csv_rows((await fetch(api, shop.owner, node)).content)[0][:3] == ["ID", "Name", "Kind"]


async def test_row_scope_hidden_columns_and_masking_follow_the_role(api, shop):
    # The salesperson sees only their own customer and orders.
    node = await exported(api, shop.sales, shop.database, "ACCOUNTS")
    rows = csv_rows((await fetch(api, shop.sales, node)).content)
    assert [r[1] for r in rows[1:]] == ["Дмитро"]
    node = await exported(api, shop.sales, shop.database, "ORDERS")
    rows = csv_rows((await fetch(api, shop.sales, node)).content)
    assert len(rows) == 2 and rows[1][rows[0].index("Total")] == "500.00"

    # Logistics may not see e-mails, tags and sources, and sees phones and addresses masked.
    node = await exported(api, shop.logistics, shop.database, "ACCOUNTS", accounts={"orderBy": {"field": "NAME"}})
    rows = csv_rows((await fetch(api, shop.logistics, node)).content)
    header = rows[0]
    assert "E-mails" not in header and "Tags" not in header and "Source" not in header
    anna = next(r for r in rows if r[1] == "Анна")
    assert anna[header.index("Phones")] == "+38067*****99"
    assert anna[header.index("Addresses")] == "Київ, ***"
    assert "anna@example.com" not in "".join(",".join(r) for r in rows)

    # The analyst sees every column but customers' data masked; the owner sees it in full.
    node = await exported(api, shop.analyst, shop.database, "ACCOUNTS")
    rows = csv_rows((await fetch(api, shop.analyst, node)).content)
    anna = next(r for r in rows if r[1] == "Анна")
    assert anna[rows[0].index("E-mails")] == "a***@example.com" and anna[rows[0].index("Tags")] == "vip"
    node = await exported(api, shop.owner, shop.database, "ACCOUNTS")
    rows = csv_rows((await fetch(api, shop.owner, node)).content)
    anna = next(r for r in rows if r[1] == "Анна")
    assert anna[rows[0].index("E-mails")] == "anna@example.com" and anna[rows[0].index("Phones")] == "+380671234599"
    # A formula in a name stays text in the spreadsheet.
    assert '\'=HYPERLINK("http://evil")' in [r[1] for r in rows]


async def test_a_filter_the_role_may_not_use_or_a_list_it_may_not_read_is_refused(api, shop):
    body = await api.execute(
        START,
        {"i": {"list": "ACCOUNTS", "accounts": {"where": {"tag": {"eq": "vip"}}}}},
        token=shop.logistics.token,
        org=shop.logistics.org,
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await api.execute(START, {"i": {"list": "DEALS"}}, token=shop.support.token, org=shop.support.org)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # Every problem of the input at once.
    payload = await start(api, shop.owner, "ORGANIZATION", "JSONL", orders={"where": {}})
    assert {(e["field"], e["code"]) for e in payload["errors"]} == {
        ("list", "INVALID"),
        ("format", "INVALID"),
        ("orders", "INVALID"),
    }


async def test_the_job_acts_as_the_member_is_when_it_runs(api, shop):
    payload = await start(api, shop.analyst, "ORDERS")
    user_id = ids.decode(shop.analyst.user_id, "User")[1]
    await Membership.filter(user_id=user_id).update(is_active=False)
    await run_until_idle(shop.database)
    export = await Export.get(id=ids.decode(payload["export"]["id"], "Export")[1])
    assert export.status == "failed" and "no longer a member" in export.error
    assert await ExportChunk.filter(export_id=export.id).count() == 0


async def test_downloads_only_for_their_maker_owners_and_admins_until_they_expire(api, tenants, shop):
    node = await exported(api, shop.sales, shop.database, "ORDERS")
    assert (await fetch(api, shop.sales, node)).status_code == 200
    assert (await fetch(api, shop.admin, node)).status_code == 200
    assert (await fetch(api, shop.analyst, node)).status_code == 404  # not theirs
    other = await tenants.create(("owner",))
    assert (await fetch(api, other.owner, node)).status_code == 404
    assert (await api.http.get(node["downloadPath"])).status_code == 401
    # The signed link works without headers, and not with a changed signature or expiry.
    assert (await api.http.get(node["downloadUrl"])).content == (await fetch(api, shop.sales, node)).content
    assert (await api.http.get(node["downloadUrl"][:-4] + "0000")).status_code == 403
    later = node["downloadUrl"].replace("expires=", "expires=9")
    assert (await api.http.get(later)).status_code == 403

    # Expired: refused, then housekeeping deletes the file and the export says so.
    export_id = ids.decode(node["id"], "Export")[1]
    await Export.filter(id=export_id).update(expires_at=datetime.now(UTC) - timedelta(minutes=1))
    assert (await fetch(api, shop.sales, node)).status_code == 410
    done = await housekeeping(now=datetime.now(UTC))
    assert done["export_files"] >= 1
    assert await ExportChunk.filter(export_id=export_id).count() == 0
    again = await listed(api, shop.sales, node["id"])
    assert again["status"] == "EXPIRED" and again["downloadUrl"] is None and again["downloadPath"] is None
    assert (await api.http.get(node["downloadUrl"])).status_code == 410  # the signed link is gone too


async def test_a_signed_link_past_its_time_is_refused(api, shop):
    node = await exported(api, shop.owner, shop.database, "CONTACTS")
    export = await Export.get(id=ids.decode(node["id"], "Export")[1])
    settings = shop.database
    export.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    assert (await api.http.get(service.signed_path(settings, export))).status_code == 403


async def test_a_retried_job_makes_one_file_with_each_row_once(api, shop, monkeypatch):
    monkeypatch.setattr(service, "PAGE_SIZE", 2)
    monkeypatch.setattr(shop.database, "export_chunk_bytes", 100)
    node = await exported(api, shop.owner, shop.database, "ORDERS")
    export_id = ids.decode(node["id"], "Export")[1]
    first = b"".join(
        [bytes(c) for c in await ExportChunk.filter(export_id=export_id).order_by("seq").values_list("data", flat=True)]
    )
    chunks = await ExportChunk.filter(export_id=export_id).count()
    assert chunks > 1
    # The job again (a redelivered event): nothing to do.
    assert "skipped" in await service.build_export(export_id, shop.database)
    # A try that died after building but before committing comes back as "running": rebuilt once.
    await Export.filter(id=export_id).update(status="running")
    await service.build_export(export_id, shop.database)
    assert await ExportChunk.filter(export_id=export_id).count() == chunks
    again = b"".join(
        [bytes(c) for c in await ExportChunk.filter(export_id=export_id).order_by("seq").values_list("data", flat=True)]
    )
    rows = csv_rows(again)
    assert len(rows) == 5 and len({r[0] for r in rows[1:]}) == 4
    assert rows == csv_rows(first)


async def test_statements_per_page_do_not_grow_with_the_page_size(api, shop, monkeypatch):
    async def statements(page_size: int) -> int:
        monkeypatch.setattr(service, "PAGE_SIZE", page_size)
        payload = await start(api, shop.owner, "ORDERS")
        export_id = ids.decode(payload["export"]["id"], "Export")[1]
        with QueryCounter() as counter:
            await service.build_export(export_id, shop.database)
        return counter.count

    # Four orders, read in two pages either way: the bigger page costs no extra statement
    # (related names are joined, not fetched per row).
    small = await statements(3)  # pages of 3 and 1
    large = await statements(4)  # a page of 4 and an empty one
    assert small == large


async def test_the_full_export_holds_every_table_and_no_secret(api, shop):
    from server.plugins import crypto

    org = await Organization.get(slug=shop.slug)
    # A real ciphertext: other tests rotate every installation's secrets in this database.
    secret = crypto.encrypt(shop.database, "novaposhta", {"api_key": "PLAIN-SECRET-VALUE"})
    await PluginInstallation.create(
        organization=org,
        plugin="novaposhta",
        secrets=secret,
        webhook_token_hash="f" * 64,
        webhook_token_issued_at=datetime.now(UTC),
    )
    from server.imports.models import ImportBatch

    # An import keeps its uploaded file (bytes): the export holds the batch, not the file.
    await ImportBatch.create(
        organization=org,
        kind="accounts",
        system="keycrm",
        file_name="buyers.csv",
        file_format="csv",
        content=b"\xd0\x9f\xd0\x86\xd0\x91,phone\n",
        mapping={"ПІБ": "name"},
    )
    refused = await api.execute(START_FULL, token=shop.admin.token, org=shop.admin.org)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    payload = (await gql(api, shop.owner, START_FULL))["startOrganizationExport"]
    assert payload["errors"] == []
    await run_until_idle(shop.database)
    node = await listed(api, shop.owner, payload["export"]["id"])
    assert node["status"] == "DONE" and node["format"] == "JSONL"
    admin = {"Authorization": f"Bearer {shop.admin.token}", "X-Organization": shop.admin.org}
    assert (await api.http.get(f"/exports/{node['id']}/download", headers=admin)).status_code == 404  # owners only
    archive = zipfile.ZipFile(io.BytesIO((await fetch(api, shop.owner, node)).content))
    names = set(archive.namelist())
    assert names == {f"{table}.jsonl" for table in full.tables()}
    assert {"order.jsonl", "account.jsonl", "audit_entry.jsonl", "plugin_installation.jsonl", "user.jsonl"} <= names
    text = b"".join(archive.read(n) for n in names).decode()
    assert secret not in text and "PLAIN-SECRET-VALUE" not in text and "f" * 64 not in text
    for name in names:
        for line in archive.read(name).decode().splitlines():
            row = json.loads(line)
            assert not any(full.is_secret(key) for key in row), (name, row)
    users = [json.loads(line) for line in archive.read("user.jsonl").decode().splitlines()]
    assert len(users) == 6 and all("password_hash" not in u for u in users)
    orders = [json.loads(line) for line in archive.read("order.jsonl").decode().splitlines()]
    assert len(orders) == 4 and {o["organization_id"] for o in orders} == {str(org.id)}
    [batch] = [json.loads(line) for line in archive.read("import_batch.jsonl").decode().splitlines()]
    assert batch["file_name"] == "buyers.csv" and "content" not in batch
    accounts = archive.read("account.jsonl").decode()
    assert "anna@example.com" in accounts
    # Nothing of another organization.
    assert await User.filter(email__startswith="owner-").count() >= 1


async def test_starting_an_export_is_audited_with_its_filters(api, shop):
    where = {"status": {"eq": "new"}}
    await start(api, shop.owner, "ORDERS", "XLSX", orders={"where": where})
    entries = (await gql(api, shop.owner, AUDIT))["auditEntries"]["edges"]
    started = [e["node"] for e in entries if e["node"]["action"] == "export.start"]
    assert started and started[0]["changes"]["list"] == [None, "orders"]
    assert started[0]["changes"]["format"] == [None, "xlsx"]
    assert started[0]["changes"]["where"] == [None, {"status": {"eq": "new"}}]


async def test_a_failed_try_is_told_and_retried_and_a_stuck_export_ends_failed(api, shop, monkeypatch):
    real = service._write_list
    calls = []

    async def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("database went away")
        return await real(*args, **kwargs)

    monkeypatch.setattr(service, "_write_list", flaky)
    payload = await start(api, shop.owner, "DEALS")
    export_id = ids.decode(payload["export"]["id"], "Export")[1]
    with pytest.raises(ConnectionError):
        await service.build_export(export_id, shop.database)
    node = await listed(api, shop.owner, payload["export"]["id"])
    assert node["status"] == "RUNNING" and node["error"] == "Building the file failed; it is tried again."
    await service.build_export(export_id, shop.database)  # the retry
    node = await listed(api, shop.owner, payload["export"]["id"])
    assert node["status"] == "DONE" and node["error"] is None and node["rowCount"] == 0

    # One that never finishes (every try failed) is failed by housekeeping, in its language.
    stuck = await start(api, shop.owner, "TICKETS", lang="uk")
    done = await housekeeping(now=datetime.now(UTC) + service.STALE_AFTER + timedelta(minutes=1))
    assert done["stale_exports"] >= 1
    node = await listed(api, shop.owner, stuck["export"]["id"])
    assert node["status"] == "FAILED" and node["error"] == "Не вдалося створити файл. Запустіть новий експорт."


async def test_a_team_scoped_manager_exports_their_teams_rows_only(api, tenants, shop):
    manager = await tenants.add(shop, "north-manager", "manager", team="north")
    teammate = await tenants.add(shop, "north-sales", "sales", team="north")
    await new_account(teammate, api, "Олена з півночі")
    await new_account(manager, api, "Петро менеджера")
    node = await exported(api, manager, shop.database, "ACCOUNTS", accounts={"orderBy": {"field": "NAME"}})
    rows = csv_rows((await fetch(api, manager, node)).content)
    # Not the owner's Анна nor the other salesperson's Дмитро.
    assert sorted(r[1] for r in rows[1:]) == ["Олена з півночі", "Петро менеджера"]
