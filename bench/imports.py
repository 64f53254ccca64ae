"""Time of an import: a KeyCRM-style orders file (a row per order line) or a Bitrix24-style
contacts file of ``ROWS`` rows, imported into a throwaway database as `crm import` does.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/imports.py
    ROWS=100000 KIND=orders DATABASE_URL=... python bench/imports.py

Prints rows/s, objects/s, SQL statements per object, and the time of the dry run and of a
second run of the same file (which changes nothing). Settings: ``ROWS`` (100000), ``KIND``
(orders | accounts), ``DRY_RUN`` (1: also time the dry run).
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import random
import sys
import time
import uuid
from pathlib import Path

os.environ.setdefault("CRM_PROFILE", "test")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

from server.auth import principal as principals
from server.auth.scope import Scope
from server.auth.service import add_member, create_user
from server.config import Settings
from server.db import close_db, init_db, migrate
from server.imports import service
from server.organizations.service import create_organization
from tests.helpers import QueryCounter

ROWS = int(os.environ.get("ROWS", "100000"))
KIND = os.environ.get("KIND", "orders")
DRY_RUN = os.environ.get("DRY_RUN", "1") == "1"
ORDER_HEADER = [
    "ID замовлення",
    "Дата створення",
    "Статус",
    "ID покупця",
    "Покупець",
    "Телефон покупця",
    "Артикул",
    "Назва товару",
    "Кількість",
    "Ціна",
    "Валюта",
    "ТТН",
]
CONTACT_HEADER = ["ID", "Имя", "Фамилия", "Мобильный телефон", "Рабочий e-mail", "Источник"]


def orders_file(rows: int) -> bytes:
    rng = random.Random(1)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(ORDER_HEADER)
    written, number = 0, 0
    customers = max(1, rows // 6)
    while written < rows:
        number += 1
        buyer = rng.randrange(customers)
        when = f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} {rng.randint(8, 21):02d}:15:00"
        status = rng.choice(["Доставлено", "Доставлено", "Скасовано", "Новий"])
        for line in range(min(rng.randint(1, 3), rows - written)):
            writer.writerow(
                [
                    number,
                    when,
                    status,
                    f"B-{buyer}",
                    f"Покупець {buyer}",
                    f"+38067{buyer:07d}",
                    f"SKU-{line}",
                    f"Товар {line}",
                    rng.randint(1, 3),
                    f"{rng.randint(100, 5000)},00",
                    "UAH",
                    "",
                ]
            )
            written += 1
    return out.getvalue().encode()


def contacts_file(rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(CONTACT_HEADER)
    for n in range(rows):
        writer.writerow([n, f"Ім'я {n}", f"Прізвище {n}", f"+38050{n:07d}", f"c{n}@example.com", "Сайт"])
    return out.getvalue().encode("cp1251")


async def timed(scope: Scope, content: bytes, dry_run: bool) -> tuple[float, object]:
    started = time.monotonic()
    batch = await service.start(
        scope,
        kind=KIND,
        file_name="bench.csv",
        content=content,
        preset="keycrm" if KIND == "orders" else "bitrix24",
        dry_run=dry_run,
        queue=False,
    )
    while batch.status in ("queued", "running"):
        batch = await service.run(batch.id, queue_rest=False)
    return time.monotonic() - started, batch


async def statements_per_object(scope: Scope) -> float:
    """SQL statements per account or order, counted on a small file in its own organization."""
    content = orders_file(600) if KIND == "orders" else contacts_file(600)
    with QueryCounter() as counter:
        _seconds, batch = await timed(scope, content, False)
    return counter.count / max(batch.created_count + batch.matched_count, 1)


async def main() -> None:
    settings = Settings()
    if not settings.is_postgres:
        raise SystemExit("set DATABASE_URL to a PostgreSQL server")
    admin = settings.database_url.replace("postgres://", "postgresql://", 1)
    db = f"crm_import_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{db}"')
    await conn.close()
    settings = settings.model_copy(update={"database_url": admin.rsplit("/", 1)[0] + "/" + db})
    try:
        await init_db(settings)
        await migrate(settings)
        org = await create_organization("bench", "Bench shop")
        user = await create_user("owner@bench.example", "bench-password-1", "Owner")
        await add_member(org, user, "owner")
        scope = Scope(await principals.for_user(user, "bench"))
        sample_org = await create_organization("sample", "Sample shop")
        await add_member(sample_org, user, "owner")
        per_object = await statements_per_object(Scope(await principals.for_user(user, "sample")))
        content = orders_file(ROWS) if KIND == "orders" else contacts_file(ROWS)
        print(f"{KIND}: {ROWS} rows, {len(content) / 1e6:.1f} MB; {per_object:.1f} SQL statements per {KIND[:-1]}")
        runs = ([("dry run", True)] if DRY_RUN else []) + [("import", False), ("second run", False)]
        for label, dry in runs:
            seconds, batch = await timed(scope, content, dry)
            objects = batch.created_count + batch.matched_count
            print(
                f"{label:10} {seconds:7.1f} s  {ROWS / seconds:7.0f} rows/s  {objects / seconds:7.0f} {KIND}/s  "
                f"created {batch.created_count}, matched {batch.matched_count}, failed {batch.failed_count}",
                flush=True,
            )
    finally:
        await close_db()
        conn = await asyncpg.connect(admin)
        await conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
