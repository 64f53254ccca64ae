"""The `crm` command, run the way users run it: as a separate process against its own database.

Commands that touch a database run as subprocesses with their own DATABASE_URL (a fresh SQLite
file, or a fresh PostgreSQL database when the suite runs with a PostgreSQL DATABASE_URL), so they
never disturb the session database of the other tests. Commands without a database (--help,
schema export, argument errors) run in-process with typer's CliRunner.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import httpx
import phonenumbers
import pytest
from typer.testing import CliRunner

from server.cli import app

PASSWORD = "correct horse battery"
TIMEOUT = 120  # seconds, for any one command


def python(args: list[str], env: dict | None = None, *, input: str | None = None):
    """Run this interpreter in a child process (our own fixed arguments, no shell)."""
    return subprocess.run(  # noqa: S603
        [sys.executable, *args], env=env, input=input, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )


def crm(args: list[str], env: dict, *, input: str | None = None):
    return python(["-m", "server.cli", *args], env, input=input)


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    return result.stdout


def failed(result: subprocess.CompletedProcess) -> str:
    """The error output of a command that must fail cleanly: exit code 1, no traceback."""
    assert result.returncode == 1, f"exit {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert "Traceback" not in result.stderr + result.stdout
    return " ".join(result.stderr.split())  # unwrap the console's line breaks


# -- databases -----------------------------------------------------------------------------

PARENT_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRES = PARENT_URL.startswith(("postgres://", "postgresql://", "asyncpg://"))


def _pg_admin(sql: str) -> None:
    """Run one statement on the PostgreSQL server of DATABASE_URL, in a child process so this
    process's event loops (pytest-asyncio's session loop) are left alone."""
    dsn = PARENT_URL.replace("asyncpg://", "postgresql://", 1).replace("postgres://", "postgresql://", 1)
    code = "import asyncio, asyncpg, sys\nasync def main():\n    c = await asyncpg.connect(sys.argv[1])\n"
    code += "    await c.execute(sys.argv[2])\n    await c.close()\nasyncio.run(main())\n"
    ok(python(["-c", code, dsn, sql]))


@pytest.fixture
def fresh_db(tmp_path):
    """A factory of empty databases: SQLite files, or PostgreSQL databases on PostgreSQL runs."""
    created: list[str] = []

    def make(name: str = "crm") -> dict:
        if ON_POSTGRES:
            db = f"crm_cli_{uuid.uuid4().hex[:10]}"
            _pg_admin(f'CREATE DATABASE "{db}"')
            created.append(db)
            url = PARENT_URL.rsplit("/", 1)[0] + "/" + db
        else:
            url = f"sqlite://{tmp_path / f'{name}.sqlite3'}"
        return {**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}

    yield make
    for db in created:
        _pg_admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def new_org(env: dict, slug: str = "shop") -> None:
    ok(crm(["migrate"], env))
    ok(crm(["org", "create", slug, "--name", "Мій магазин"], env))


# A small program that reads a database through the ORM, like the server does.
INSPECT = r"""
import asyncio, json, sys
from server.config import Settings
from server.db import init_db, close_db

async def main():
    await init_db(Settings())
    try:
        from server.accounts.models import Account, AccountIdentifier
        from server.core import sequences
        from server.orders.models import Order, OrderItem, OrderStatusChange
        from server.organizations.models import Organization
        org = await Organization.get(slug=sys.argv[1])
        accounts = await Account.filter(organization_id=org.id).order_by("created_at", "name")
        orders = await Order.filter(organization_id=org.id).order_by("number").prefetch_related("status")
        items = {}
        for it in await OrderItem.filter(organization_id=org.id):
            items.setdefault(str(it.order_id), []).append(str(it.total))
        initial = {str(c.order_id) for c in await OrderStatusChange.filter(organization_id=org.id, from_status_id__isnull=True)}
        identifiers = await AccountIdentifier.filter(organization_id=org.id).count()
        out = {
            "accounts": [[a.name, a.phones, a.emails, a.tags, a.created_at.isoformat()] for a in accounts],
            "orders": [[o.number, str(o.total), str(o.subtotal), str(o.discount_total), o.status.code,
                        o.created_at.isoformat(), items.get(str(o.id), []), str(o.id) in initial]
                       for o in orders],
            "identifiers": identifiers,
            "next_number": await sequences.next_value(org.id, "order"),
        }
        print(json.dumps(out))
    finally:
        await close_db()

asyncio.run(main())
"""


def inspect(env: dict, slug: str = "shop") -> dict:
    return json.loads(ok(python(["-c", INSPECT, slug], env)))


# -- no database -----------------------------------------------------------------------------

runner = CliRunner()


def test_help_lists_every_command():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "migrate", "org", "user", "demo-data", "schema"):
        assert command in result.output
    for args in (["serve"], ["migrate"], ["org", "create"], ["user", "create"], ["demo-data"], ["schema", "export"]):
        sub = runner.invoke(app, [*args, "--help"])
        assert sub.exit_code == 0, (args, sub.output)
        assert "Usage" in sub.output
    assert "--demo" in runner.invoke(app, ["serve", "--help"]).output
    assert "--seed" in runner.invoke(app, ["demo-data", "--help"]).output


def test_schema_export_prints_the_served_schema(tmp_path):
    from server.graphql.schema import build_schema, sdl

    result = runner.invoke(app, ["schema", "export"])
    assert result.exit_code == 0
    assert "type Query" in result.stdout
    assert result.stdout == sdl(build_schema())

    target = tmp_path / "schema.graphql"
    result = runner.invoke(app, ["schema", "export", "--output", str(target)])
    assert result.exit_code == 0
    assert target.read_text(encoding="utf-8") == sdl(build_schema())


ADD_CUSTOM_ROLE = r"""
import asyncio, sys
from server.config import Settings
from server.db import init_db, close_db

async def main():
    await init_db(Settings())
    try:
        from server.organizations.models import Organization
        from server.roles.models import CustomRole
        org = await Organization.get(slug=sys.argv[1])
        await CustomRole.create(organization=org, name=sys.argv[2], permissions=["orders:read"], hidden_fields=[])
    finally:
        await close_db()

asyncio.run(main())
"""


def test_a_role_must_be_built_in_or_the_organizations_own(fresh_db):
    env = fresh_db()
    new_org(env)
    result = crm(["user", "create", "--org", "shop", "--email", "a@shop.ua", "--role", "boss"], env, input="")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    message = " ".join((result.stdout + result.stderr).split())
    assert "Unknown role 'boss'" in message and "No password" not in message  # refused before the password
    assert "owner, admin, manager, sales, support, logistics, analyst" in message
    ok(python(["-c", ADD_CUSTOM_ROLE, "shop", "warehouse-night"], env))
    ok(
        crm(
            ["user", "create", "--org", "shop", "--email", "n@shop.ua", "--role", "warehouse-night"],
            env,
            input=PASSWORD + "\n",
        )
    )
    assert ok(python(["-c", LOGIN, "n@shop.ua", PASSWORD], env)).split()[3] == "warehouse-night"
    refused = crm(["user", "create", "--org", "shop", "--email", "b@shop.ua", "--role", "boss"], env, input="")
    assert "analyst, warehouse-night" in " ".join((refused.stdout + refused.stderr).split())


def test_crm_import_shows_progress_and_every_problem_and_changes_nothing_the_second_time(fresh_db):
    env = fresh_db()
    new_org(env)
    ok(crm(["user", "create", "--org", "shop", "--email", "o@shop.ua", "--role", "owner"], env, input=PASSWORD))
    sample = str(Path(__file__).parent / "data" / "imports" / "keycrm_orders.csv")
    command = ["import", sample, "--org", "shop", "--as", "o@shop.ua", "--kind", "orders", "--preset", "keycrm"]
    first = " ".join(ok(crm(command, env)).split())
    assert "5/5" in first  # the progress bar, finished
    assert "row 5: status INVALID" in first and "row 6: items.0.unitPrice INVALID" in first
    assert "2 created, 0 already there, 2 left out" in first
    again = " ".join(ok(crm(command, env)).split())
    assert "0 created, 2 already there, 2 left out" in again
    refused = crm([*command[:5], "nobody@shop.ua", *command[6:]], env)
    assert refused.returncode == 1 and "No active user with e-mail nobody@shop.ua" in refused.stdout + refused.stderr


# -- refusing to run unprotected -------------------------------------------------------------


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["worker", "--burst"], ["plugins", "rotate-secrets"]])
@pytest.mark.parametrize(
    ("key", "words"),
    [("change-me", "SECRET_KEY is not set"), ("short-but-set", "SECRET_KEY is shorter than 32 characters")],
)
def test_production_refuses_a_placeholder_or_short_secret_key(fresh_db, command, key, words):
    env = {**fresh_db(), "DEBUG": "false", "SECRET_KEY": key, "REDIS_URL": "redis://127.0.0.1:6379/15"}
    message = failed(crm(command, env))
    assert words in message and "secrets.token_urlsafe" in message


def test_debug_and_demo_may_keep_the_placeholder_key():
    from server.app import create_app
    from server.config import InsecureSettings, Settings

    placeholder = Settings(secret_key="change-me", debug=False, demo=False)
    with pytest.raises(InsecureSettings):
        create_app(placeholder, manage_db=False)
    for allowed in ({"debug": True}, {"demo": True}, {"secret_key": "k" * 32}):
        create_app(placeholder.model_copy(update=allowed), manage_db=False)


# -- migrate, organizations, users -----------------------------------------------------------


def test_migrate_creates_the_schema_and_then_has_nothing_to_do(fresh_db, tmp_path):
    env = fresh_db()
    first = ok(crm(["migrate"], env))
    assert "applied crm.0001_initial" in first
    second = ok(crm(["migrate"], env))
    assert "Nothing to apply" in second
    assert "applied" not in second.replace("applied earlier", "")
    if not ON_POSTGRES:
        import sqlite3

        with sqlite3.connect(tmp_path / "crm.sqlite3") as db:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"organization", "user", "account", "order", "order_item", "ticket"} <= tables


def test_commands_on_an_unmigrated_database_say_what_to_do(fresh_db):
    env = fresh_db()
    message = failed(crm(["org", "create", "shop", "--name", "Shop"], env))
    assert "crm migrate" in message


LOGIN = r"""
import asyncio, sys
from server.config import Settings
from server.db import init_db, close_db

async def main():
    await init_db(Settings())
    try:
        from server.auth.models import Membership
        from server.auth.service import login
        from server.auth.throttle import LoginThrottle
        from server.core.errors import UserInputError
        throttle = LoginThrottle.from_settings(Settings())
        token = await login(sys.argv[1], sys.argv[2], 1, throttle, "127.0.0.1")
        try:
            await login(sys.argv[1], "wrong password", 1, throttle, "127.0.0.1")
            wrong = "accepted"
        except UserInputError:
            wrong = "refused"
        m = await Membership.get(user__email=sys.argv[1]).prefetch_related("organization", "team", "user")
        print(bool(token), wrong, m.organization.slug, m.role, m.team.name if m.team else None, m.user.name)
    finally:
        await close_db()

asyncio.run(main())
"""


ANNA = ("--name", "Анна", "--team", "Київ")


def test_org_and_user_create_then_the_user_signs_in(fresh_db):
    env = fresh_db()
    new_org(env)
    out = ok(
        crm(
            ["user", "create", "--org", "shop", "--email", "Anna@Shop.UA", "--role", "manager", *ANNA],
            env,
            input=PASSWORD + "\n",
        )
    )
    assert "anna@shop.ua" in out
    assert ok(python(["-c", LOGIN, "anna@shop.ua", PASSWORD], env)).split() == [
        "True",
        "refused",
        "shop",
        "manager",
        "Київ",
        "Анна",
    ]


def test_user_and_org_errors_are_one_clear_line(fresh_db):
    env = fresh_db()
    new_org(env)
    ok(crm(["user", "create", "--org", "shop", "--email", "a@shop.ua", "--role", "owner"], env, input=PASSWORD))

    def user(*args: str, password: str = PASSWORD) -> list:
        return [["user", "create", *args], password + "\n"]

    cases = [  # (command, stdin, what the message must say); they read only, so run them at once
        (*user("--org", "nope", "--email", "b@shop.ua", "--role", "sales"), "Organization 'nope' not found"),
        (*user("--org", "shop", "--email", "A@shop.ua", "--role", "sales"), "already exists"),
        (*user("--org", "shop", "--email", "b@shop.ua", "--role", "sales", password="short"), "at least 8 characters"),
        (*user("--org", "shop", "--email", "nobody", "--role", "sales"), "not an e-mail address"),
        (["user", "create", "--org", "shop", "--email", "c@shop.ua", "--role", "sales"], "", "No password"),
        (["org", "create", "shop", "--name", "Again"], None, "already exists"),
        (["org", "create", "shop2", "--name", "X", "--currency", "XYZ"], None, "Unsupported currency"),
        (["demo-data", "--org", "nope", "--orders", "1"], None, "Organization 'nope' not found"),
    ]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda case: crm(case[0], env, input=case[1]), cases))
    for (args, _, expected), result in zip(cases, results, strict=True):
        assert expected in failed(result), (args, result.stderr)


# -- demo data -------------------------------------------------------------------------------


def _load(env: dict, *args: str) -> str:
    return ok(crm(["demo-data", "--org", "shop", *args], env))


def test_demo_data_is_deterministic_and_keeps_the_invariants(fresh_db):
    first, second = fresh_db("first"), fresh_db("second")
    seeded = ["--accounts", "30", "--orders", "150", "--seed", "42"]

    def fill(env: dict, more: bool) -> None:
        new_org(env)
        ok(crm(["user", "create", "--org", "shop", "--email", "s@shop.ua", "--role", "sales"], env, input=PASSWORD))
        _load(env, *seeded)
        if more:  # more orders for the existing customers: numbers must continue
            _load(env, "--accounts", "0", "--orders", "25", "--seed", "7")

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(fill, [first, second], [True, False]))
    a, b = inspect(first), inspect(second)

    # The same seed gives the same customers and orders.
    assert [acc[0] for acc in a["accounts"]] == [acc[0] for acc in b["accounts"]]
    assert len(a["accounts"]) == 30
    assert [o[1] for o in a["orders"][:150]] == [o[1] for o in b["orders"]]
    assert [o[4] for o in a["orders"][:150]] == [o[4] for o in b["orders"]]

    # Numbers continue the organization's sequence, with no gaps, also after a second load...
    assert [o[0] for o in a["orders"]] == list(range(1, 176))
    # ...and the sequence was advanced, so the next order the service creates is #176.
    assert a["next_number"] == 176
    assert b["next_number"] == 151

    statuses = set()
    for number, total, subtotal, discount, status, _created, item_totals, has_initial in a["orders"]:
        assert item_totals, number
        assert Decimal(total) == sum(Decimal(t) for t in item_totals), number
        assert Decimal(total) == Decimal(subtotal) - Decimal(discount)
        assert Decimal(total).as_tuple().exponent == -2
        assert has_initial, f"order #{number} has no initial status change"
        statuses.add(status)
    assert len(statuses) >= 4, statuses  # spread over the statuses, not all "new"
    created = [o[5] for o in a["orders"][:150]]
    assert created == sorted(created)  # numbers follow creation order

    identifiers = 0
    for name, phones, emails, tags, _ in a["accounts"]:
        assert name.strip()
        assert phones, name
        for phone in phones:
            parsed = phonenumbers.parse(phone)
            assert phone.startswith("+380") and phonenumbers.is_valid_number(parsed), phone
            assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == phone
        assert all(e == e.lower() and "@" in e for e in emails)
        identifiers += len(phones) + len(emails) + len(tags)
    assert a["identifiers"] == identifiers
    cyrillic = sum(bool(re.search("[а-яіїєґ]", n.lower())) for n, *_ in a["accounts"])
    assert cyrillic == len(a["accounts"])


# Deals and tickets of a load, read through the ORM.
INSPECT_PIPELINE = r"""
import asyncio, json, sys
from server.config import Settings
from server.db import init_db, close_db

async def main():
    await init_db(Settings())
    try:
        from server.core import sequences
        from server.deals.models import Deal, DealStageChange, Stage
        from server.organizations.models import Organization
        from server.tickets.models import Ticket
        org = await Organization.get(slug=sys.argv[1])
        stages = {s.id: s for s in await Stage.filter(organization_id=org.id)}
        history = {}
        for c in await DealStageChange.filter(organization_id=org.id).order_by("created_at", "id"):
            history.setdefault(c.deal_id, []).append(c)
        deals = []
        for d in await Deal.filter(organization_id=org.id).order_by("created_at", "title"):
            moves = history.get(d.id, [])
            deals.append({
                "title": d.title, "amount": str(d.amount), "created": d.created_at.isoformat(),
                "stage": stages[d.stage_id].name, "kind": stages[d.stage_id].kind, "version": d.version,
                "closed": d.closed_at.isoformat() if d.closed_at else None,
                "path": [[stages[m.from_stage_id].name if m.from_stage_id else None, stages[m.to_stage_id].name,
                          stages[m.to_stage_id].position, m.created_at.isoformat()] for m in moves],
            })
        tickets = [
            {"number": t.number, "status": t.status, "priority": t.priority, "created": t.created_at.isoformat(),
             "first_response": t.first_response_at.isoformat() if t.first_response_at else None,
             "resolved": t.resolved_at.isoformat() if t.resolved_at else None,
             "due_minutes": [(t.first_response_due_at - t.created_at).total_seconds() / 60,
                             (t.resolution_due_at - t.created_at).total_seconds() / 60]}
            for t in await Ticket.filter(organization_id=org.id).order_by("number")
        ]
        first_open = min((s for s in stages.values() if s.kind == "open"), key=lambda s: s.position).name
        print(json.dumps({"deals": deals, "tickets": tickets, "first_open": first_open,
                          "next_ticket": await sequences.next_value(org.id, "ticket")}))
    finally:
        await close_db()

asyncio.run(main())
"""


def test_demo_deals_and_tickets_move_like_the_services_move_them(fresh_db):
    first, second = fresh_db("first"), fresh_db("second")
    moment = "2026-11-30T12:00:00+00:00"

    def fill(env: dict) -> None:
        new_org(env)
        ok(crm(["user", "create", "--org", "shop", "--email", "s@shop.ua", "--role", "sales"], env, input=PASSWORD))
        out = _load(
            env,
            "--accounts",
            "40",
            "--orders",
            "60",
            "--deals",
            "120",
            "--tickets",
            "90",
            "--seed",
            "5",
            "--now",
            moment,
        )
        assert "120 deals" in out and "90 tickets" in out, out

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(fill, [first, second]))
    a = json.loads(ok(python(["-c", INSPECT_PIPELINE, "shop"], first)))
    b = json.loads(ok(python(["-c", INSPECT_PIPELINE, "shop"], second)))
    assert a == b  # the same seed and moment: the same deals and tickets

    end = moment
    kinds = set()
    for deal in a["deals"]:
        path = deal["path"]
        assert path[0][0] is None and path[0][1] == a["first_open"] and path[0][3] == deal["created"], deal
        assert all(later[0] == earlier[1] for earlier, later in pairwise(path)), deal
        assert [p[3] for p in path] == sorted(p[3] for p in path) and path[-1][3] <= end, deal
        assert [p[2] for p in path] == sorted(p[2] for p in path), deal  # forward only
        assert path[-1][1] == deal["stage"] and deal["version"] == len(path), deal
        assert deal["closed"] == (path[-1][3] if deal["kind"] != "open" else None), deal
        kinds.add(deal["kind"])
    assert kinds == {"open", "won", "lost"}

    sla = {"urgent": [30, 240], "high": [60, 480], "normal": [240, 1440], "low": [480, 4320]}
    assert [t["number"] for t in a["tickets"]] == list(range(1, 91)) and a["next_ticket"] == 91
    statuses = set()
    for t in a["tickets"]:
        assert t["due_minutes"] == sla[t["priority"]], t
        assert (t["resolved"] is not None) == (t["status"] in ("resolved", "closed")), t
        for moment_at in (t["first_response"], t["resolved"]):
            assert moment_at is None or t["created"] <= moment_at <= end, t
        statuses.add(t["status"])
    assert {"new", "resolved", "closed"} <= statuses
    assert sum(t["first_response"] is not None for t in a["tickets"]) > 60  # most got an answer


# -- serve --demo ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_demo(tmp_path: Path, log_name: str) -> tuple[subprocess.Popen, int, Path]:
    port = _free_port()
    log = tmp_path / log_name
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("DATABASE_URL", None)  # --demo must not need one
    with log.open("w") as handle:
        proc = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
            [sys.executable, "-m", "server.cli", "serve", "--demo", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    return proc, port, log


def _wait_healthy(proc: subprocess.Popen, port: int, log: Path, deadline: float = 60) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            pytest.fail(f"crm serve --demo exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"crm serve --demo did not answer /health within {deadline}s:\n{log.read_text()}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_serve_demo_serves_the_demo_organization(tmp_path):
    proc, port, log = _start_demo(tmp_path, "first.log")
    try:
        _wait_healthy(proc, port, log)
        output = log.read_text()
        assert f"http://127.0.0.1:{port}/graphql" in output
        # An SPA dev server on this machine may call the demo (CORS), another site may not.
        preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
        dev = httpx.options(
            f"http://127.0.0.1:{port}/graphql", headers={**preflight, "Origin": "http://localhost:5173"}
        )
        assert dev.headers.get("access-control-allow-origin") == "http://localhost:5173"
        other = httpx.options(f"http://127.0.0.1:{port}/graphql", headers={**preflight, "Origin": "https://x.example"})
        assert "access-control-allow-origin" not in other.headers
        email = re.search(r"\b(owner@\S+)", output).group(1)
        password = re.search(r"password for all: (\S+?)\)", output).group(1)
        url = f"http://127.0.0.1:{port}/graphql"
        login = httpx.post(
            url,
            json={
                "query": "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token } }",
                "variables": {"e": email, "p": password},
            },
            timeout=10,
        ).json()
        token = login["data"]["login"]["token"]
        assert token, login
        body = httpx.post(
            url,
            json={"query": "{ orders(first: 5) { edges { node { number } } } }"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).json()
        numbers = [edge["node"]["number"] for edge in body["data"]["orders"]["edges"]]
        assert len(numbers) == 5 and all(isinstance(n, int) for n in numbers), body
        for role in ("admin", "manager", "sales", "support", "logistics", "analyst"):
            assert f"{role}@demo.example" in output
        assert _demo_integrations_connect(url, token) == {
            name: True
            for name in (
                *("asterisk", "binotel", "novaposhta", "ringostat", "rozetka", "turbosms", "twilio"),
                *("liqpay", "monobank", "prom", "checkbox"),
            )
        }
    finally:
        _stop(proc)
    assert (tmp_path / "crm-demo.sqlite3").exists()

    # A second start finds the demo organization, loads nothing again, and re-points the
    # installations at the simulators' new ports.
    proc, port, log = _start_demo(tmp_path, "second.log")
    try:
        _wait_healthy(proc, port, log)
        assert "not loading it again" in log.read_text()
        url = f"http://127.0.0.1:{port}/graphql"
        login = httpx.post(url, json={"query": LOGIN_MUTATION, "variables": {"e": email, "p": password}}, timeout=10)
        token = login.json()["data"]["login"]["token"]
        assert set(_demo_integrations_connect(url, token).values()) == {True}
        assert '"POST /graphql HTTP/1.1" 200' in log.read_text()  # the access log is on by default
    finally:
        _stop(proc)


LOGIN_MUTATION = "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token } }"


def test_a_second_demo_on_a_busy_port_leaves_the_running_demo_alone(tmp_path):
    first, port, log = _start_demo(tmp_path, "first.log")
    try:
        _wait_healthy(first, port, log)
        output = log.read_text()
        email = re.search(r"\b(owner@\S+)", output).group(1)
        password = re.search(r"password for all: (\S+?)\)", output).group(1)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("DATABASE_URL", None)
        second = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
            [sys.executable, "-m", "server.cli", "serve", "--demo", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        message = failed(second)
        assert f"Port {port}" in message and "--port" in message, message
        assert "password for all" not in second.stdout  # no banner, no logins: it stopped before anything
        url = f"http://127.0.0.1:{port}/graphql"
        login = httpx.post(url, json={"query": LOGIN_MUTATION, "variables": {"e": email, "p": password}}, timeout=10)
        token = login.json()["data"]["login"]["token"]
        # The running demo's installations still point at its own, living simulators.
        assert set(_demo_integrations_connect(url, token).values()) == {True}
    finally:
        _stop(first)


def _demo_integrations_connect(url: str, token: str) -> dict[str, bool]:
    """Each built-in plugin installed for the demo answers its connection test (against its simulator)."""
    headers = {"Authorization": f"Bearer {token}"}
    listing = httpx.post(url, json={"query": "{ pluginInstallations { id plugin { name } } }"}, headers=headers)
    result = {}
    for installation in listing.json()["data"]["pluginInstallations"]:
        test = httpx.post(
            url,
            json={
                "query": "mutation($i: TestPluginConnectionInput!) { testPluginConnection(input: $i) { ok message } }",
                "variables": {"i": {"id": installation["id"]}},
            },
            headers=headers,
            timeout=30,
        ).json()
        result[installation["plugin"]["name"]] = test["data"]["testPluginConnection"]["ok"]
    return result


# -- serve behind a reverse proxy --------------------------------------------------------------

WRONG_LOGIN = 'mutation($e: String!) { login(input: {email: $e, password: "wrong"}) { errors { code } } }'


@pytest.mark.parametrize(("trusted", "third_login"), [(None, "INVALID_CREDENTIALS"), ("", "RATE_LIMITED")])
def test_forwarded_addresses_count_only_from_trusted_proxies(fresh_db, tmp_path, trusted, third_login):
    # Failed logins are limited per client address (2 per minute here). From 127.0.0.1, a
    # trusted proxy by default, X-Forwarded-For names the client; with no trusted proxies the
    # header is ignored and every request counts for 127.0.0.1.
    env = {**fresh_db(), "LOGIN_FAILURES_PER_ADDRESS": "2/minute", "RATE_LIMIT_NAMESPACE": uuid.uuid4().hex}
    env.pop("REDIS_URL", None)
    ok(crm(["migrate"], env))
    port, log = _free_port(), tmp_path / "serve.log"
    args = ["serve", "--port", str(port)] + ([] if trusted is None else ["--trusted-proxies", trusted])
    with log.open("w") as handle:
        proc = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
            [sys.executable, "-m", "server.cli", *args], env=env, stdout=handle, stderr=subprocess.STDOUT
        )
    try:
        _wait_healthy(proc, port, log)

        def login(n: int, client: str) -> str:
            response = httpx.post(
                f"http://127.0.0.1:{port}/graphql",
                json={"query": WRONG_LOGIN, "variables": {"e": f"nobody{n}@example.com"}},
                headers={"X-Forwarded-For": client},
                timeout=10,
            )
            return response.json()["data"]["login"]["errors"][0]["code"]

        assert [login(1, "198.51.100.1"), login(2, "198.51.100.1")] == ["INVALID_CREDENTIALS"] * 2
        assert login(3, "198.51.100.2") == third_login
    finally:
        _stop(proc)


# -- jobs --------------------------------------------------------------------------------------


def orm_program(body: str) -> str:
    """A small program that runs ``body`` (indented 8 spaces, may use sys.argv) with the ORM
    initialised from the settings in its environment, like the server does."""
    head = "import asyncio, json, sys\nfrom datetime import UTC, datetime\nfrom server.config import Settings\n"
    head += "from server.db import init_db, close_db\n\nasync def main():\n    await init_db(Settings())\n    try:\n"
    return head + body + "    finally:\n        await close_db()\n\nasyncio.run(main())\n"


FAIL_A_JOB = orm_program(
    """        from server.jobs.models import JobRun
        now = datetime.now(UTC)
        for job_id in sys.argv[1:]:
            await JobRun.create(job_id=job_id, name="notifications.send", kwargs={"notification_id": job_id},
                                state="failed", attempts=5, run_after=now, finished_at=now,
                                last_error="PluginError: TurboSMS answered 503 5 times; try again later.")
"""
)
JOB_STATES = orm_program(
    """        from server.jobs.models import JobRun
        print(json.dumps(dict(await JobRun.all().values_list("job_id", "state"))))
"""
)


def test_failed_jobs_are_listed_run_again_and_forgotten(fresh_db):
    env = fresh_db()
    env.pop("REDIS_URL", None)  # the in-process queue
    ok(crm(["migrate"], env))
    assert "No failed jobs." in ok(crm(["jobs", "failed"], env))
    ok(python(["-c", FAIL_A_JOB, "send:1", "send:2", "send:3"], env))
    listed = json.loads(ok(crm(["jobs", "failed", "--json"], env)))
    assert {r["job_id"] for r in listed} == {"send:1", "send:2", "send:3"}
    assert listed[0]["name"] == "notifications.send" and "503" in listed[0]["error"]
    table = ok(crm(["jobs", "failed"], env))
    assert "send:1" in table and "notifications.send" in table

    assert "Queued 1 job(s) again on the in-process queue" in ok(crm(["jobs", "retry", "send:1"], env))
    assert "No failed job with id nope" in failed(crm(["jobs", "retry", "nope"], env))
    assert "Name the job ids" in failed(crm(["jobs", "retry"], env))
    assert "Forgot 1 failed job(s)." in ok(crm(["jobs", "forget", "send:2"], env))
    states = json.loads(ok(python(["-c", JOB_STATES], env)))
    assert states == {"send:1": "queued", "send:3": "failed"}
    assert "Forgot 1 failed job(s)." in ok(crm(["jobs", "forget", "--all"], env))


def test_failed_jobs_run_again_on_arq_under_a_new_id(fresh_db):
    import redis

    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    queue = f"crm-test:{uuid.uuid4().hex[:10]}"
    env = {**fresh_db(), "REDIS_URL": url, "ARQ_QUEUE_NAME": queue}
    ok(crm(["migrate"], env))
    ok(python(["-c", FAIL_A_JOB, "send:9"], env))
    output = ok(crm(["jobs", "retry", "--all"], env))
    assert "Queued 1 job(s) again on arq on REDIS_URL" in output
    new_id = output.split()[-1]
    assert new_id.startswith("send:9~retry-")
    client = redis.Redis.from_url(url)
    try:
        assert client.zscore(queue, new_id) is not None  # waiting in the workers' queue
    finally:
        client.delete(queue, f"arq:job:{new_id}")
    assert json.loads(ok(python(["-c", JOB_STATES], env))) == {"send:9": "retried"}


# -- serve --workers ---------------------------------------------------------------------------


def test_serve_with_two_workers_answers_and_stops_cleanly(fresh_db, tmp_path):
    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    env = {**fresh_db(), "REDIS_URL": url, "SECRET_KEY": "k" * 40, "ARQ_QUEUE_NAME": f"crm-test:{uuid.uuid4().hex}"}
    new_org(env)
    ok(
        crm(
            ["user", "create", "--org", "shop", "--email", "boss@example.com", "--role", "owner"],
            env,
            input=PASSWORD + "\n",
        )
    )
    port, log = _free_port(), tmp_path / "workers.log"
    with log.open("w") as handle:
        proc = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
            [sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--workers", "2", "--no-access-log"],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_healthy(proc, port, log)
        graphql = f"http://127.0.0.1:{port}/graphql"
        variables = {"e": "boss@example.com", "p": PASSWORD}
        # Several requests, so both processes answer some; a token made by one works in the other.
        tokens = [
            httpx.post(graphql, json={"query": LOGIN_MUTATION, "variables": variables}, timeout=10).json()
            for _ in range(4)
        ]
        token = tokens[0]["data"]["login"]["token"]
        for _ in range(6):
            me = httpx.post(
                graphql, json={"query": "{ me { user { email } } }"}, headers={"Authorization": f"Bearer {token}"}
            )
            assert me.json()["data"]["me"]["user"]["email"] == "boss@example.com"
        assert log.read_text().count("Started server process") >= 2, log.read_text()
        assert "POST /graphql" not in log.read_text()  # --no-access-log
    finally:
        proc.terminate()
        assert proc.wait(timeout=30) is not None  # stops within bounds, workers included
    assert "Traceback" not in log.read_text()


def test_several_workers_need_redis_and_no_demo(fresh_db):
    env = fresh_db()
    env.pop("REDIS_URL", None)
    assert "needs REDIS_URL" in failed(crm(["serve", "--port", str(_free_port()), "--workers", "2"], env))
    assert "--demo runs one process" in failed(
        crm(["serve", "--demo", "--port", str(_free_port()), "--workers", "2"], env)
    )


def test_search_reindex_rebuilds_the_same_index(fresh_db):
    env = fresh_db()
    new_org(env)
    _load(env, "--accounts", "20", "--orders", "30", "--seed", "3")
    first = ok(crm(["search", "reindex"], env))
    [count] = re.findall(r"^shop: indexed (\d+) searchable value\(s\)\.$", first, re.M)
    # At least every account's name and phone and every order's number and recipient.
    assert int(count) >= 20 * 2 + 30 * 2, first
    assert ok(crm(["search", "reindex", "--org", "shop"], env)) == first  # the same again
    missing = crm(["search", "reindex", "--org", "nope"], env)
    assert missing.returncode != 0 and "Organization 'nope' not found." in missing.stdout + missing.stderr
