"""An installation that already has data upgrades: every column the migrations add to a table
with rows must have a database default (a Python default does not exist for rows already there).
Checked on SQLite from the last released schema (0021) with an organization in it."""

from __future__ import annotations

import os
import sqlite3
import uuid

from tests.test_cli import crm, ok, python

RELEASED = "0021_custom_roles"  # the schema of the last release; everything after must upgrade it


def test_a_database_with_an_organization_upgrades_to_the_latest_schema(tmp_path):
    path = tmp_path / "upgrade.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite://{path}"}
    ok(python(["-m", "tortoise", "-c", "server.db.TORTOISE_ORM", "migrate", "crm", RELEASED], env))
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO organization VALUES (?, '2026-01-01 00:00:00', '2026-01-01 00:00:00', 'Квітка', 'kvitka',"
            " 'UAH', 'uk', 'Europe/Kyiv', 600)",
            (str(uuid.uuid4()),),
        )
    said = ok(crm(["migrate"], env))
    assert "0033_custom_fields" in said and "up to date" in said
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT slug, duplicate_policy FROM organization").fetchall() == [("kvitka", "warn")]
