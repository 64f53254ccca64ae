"""BASELINE, NOT A PRODUCT: the OrdersPage response built by hand with asyncpg + orjson.

The floor for what one Python process can do with this page: raw ASGI on uvicorn, no GraphQL
parsing or execution, no ORM. Every POST /graphql answers the OrdersPage query (the request
body is read and ignored) with the same JSON shape as our server: the bearer token is checked
like the server does (SHA-256 of the token, not revoked, not expired, active user, one active
membership), then three statements: the page of orders joined with status and account, and
the items of those orders. IDs and cursors are encoded as server/graphql/ids.py and
server/graphql/pagination.py do.

    DATABASE_URL=postgres://... uvicorn --no-access-log --port 8192 bench.baseline_asyncpg:app
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections import defaultdict
from decimal import Decimal

import asyncpg
import orjson

PAGE = 50
POOL_SIZE = int(os.environ.get("BASELINE_POOL_SIZE", "10"))

AUTH_SQL = """
SELECT m.organization_id
FROM auth_token t
JOIN "user" u ON u.id = t.user_id AND u.is_active
JOIN membership m ON m.user_id = u.id AND m.is_active
WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > now()
LIMIT 2
"""

ORDERS_SQL = """
SELECT o.id, o.number, o.created_at, o.total, o.currency,
       s.code AS status_code, s.name AS status_name, s."group" AS status_group,
       a.id AS account_id, a.name AS account_name, a.phones->>0 AS account_phone
FROM "order" o
JOIN order_status s ON s.id = o.status_id
JOIN account a ON a.id = o.account_id
WHERE o.organization_id = $1 AND o.deleted_at IS NULL
ORDER BY o.created_at DESC, o.id DESC
LIMIT $2
"""

ITEMS_SQL = """
SELECT order_id, sku, title, quantity, unit_price
FROM order_item
WHERE order_id = ANY($1::uuid[])
ORDER BY order_id, position, id
"""


def gid(type_name: str, pk) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def cursor(created_at, pk) -> str:
    raw = orjson.dumps([created_at.isoformat(), str(pk)])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def quantity(q: Decimal) -> str:
    return str(q.quantize(Decimal(1)) if q == q.to_integral_value() else q.normalize())


async def orders_page(conn, organization_id) -> dict:
    rows = await conn.fetch(ORDERS_SQL, organization_id, PAGE + 1)
    has_next = len(rows) > PAGE
    rows = rows[:PAGE]
    items = defaultdict(list)
    for it in await conn.fetch(ITEMS_SQL, [r["id"] for r in rows]):
        items[it["order_id"]].append(it)
    edges = []
    for r in rows:
        currency = r["currency"]
        edges.append(
            {
                "cursor": cursor(r["created_at"], r["id"]),
                "node": {
                    "id": gid("Order", r["id"]),
                    "number": r["number"],
                    "createdAt": r["created_at"].isoformat(),
                    "status": {"code": r["status_code"], "name": r["status_name"], "group": r["status_group"].upper()},
                    "total": {"amount": str(r["total"]), "currency": currency},
                    "account": {
                        "id": gid("Account", r["account_id"]),
                        "name": r["account_name"],
                        "phone": r["account_phone"],
                    },
                    "items": [
                        {
                            "sku": i["sku"],
                            "title": i["title"],
                            "quantity": quantity(i["quantity"]),
                            "unitPrice": {"amount": str(i["unit_price"]), "currency": currency},
                        }
                        for i in items[r["id"]]
                    ],
                },
            }
        )
    return {
        "orders": {
            "edges": edges,
            "pageInfo": {"hasNextPage": has_next, "endCursor": edges[-1]["cursor"] if edges else None},
        }
    }


async def _send(send, status: int, payload) -> None:
    body = orjson.dumps(payload)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                url = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
                scope["state"]["pool"] = await asyncpg.create_pool(url, min_size=POOL_SIZE, max_size=POOL_SIZE)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await scope["state"]["pool"].close()
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):  # read and ignore the request body
        pass
    if scope["path"] != "/graphql" or scope["method"] != "POST":
        await _send(send, 404, {"error": "only POST /graphql (the OrdersPage) is served"})
        return
    auth = dict(scope["headers"]).get(b"authorization", b"").decode()
    kind, _, token = auth.partition(" ")
    pool = scope["state"]["pool"]
    async with pool.acquire() as conn:
        orgs = (
            await conn.fetch(AUTH_SQL, hashlib.sha256(token.strip().encode()).hexdigest())
            if kind.lower() == "bearer"
            else []
        )
        if len(orgs) != 1:
            await _send(
                send,
                200,
                {"data": None, "errors": [{"message": "sign in first", "extensions": {"code": "UNAUTHENTICATED"}}]},
            )
            return
        data = await orders_page(conn, orgs[0]["organization_id"])
    await _send(send, 200, {"data": data})
