"""Abuse limits: depth, tokens, aliases, cost, page size; unexpected errors are masked."""

import logging

import pytest

from server.orders import schema as orders_schema

# Its assertions read the API's messages in English (conftest.py: the english marker).
pytestmark = pytest.mark.english


def _deep_query(levels: int) -> str:
    inner = "id"
    for _ in range(levels):
        inner = f"orders {{ edges {{ node {{ account {{ {inner} }} }} }} }}"
    return "{ " + inner + " }"


async def test_over_deep_query_is_rejected(api, tenants):
    t = await tenants.create(("owner",))
    assert (await t.owner.execute(api, _deep_query(2)))["data"] is not None
    body = await t.owner.execute(api, _deep_query(7))
    assert body.get("data") is None
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_too_many_aliases_are_rejected(api, tenants):
    t = await tenants.create(("owner",))
    query = "{ " + " ".join(f"a{i}: me {{ email }}" for i in range(20)) + " }"
    body = await t.owner.execute(api, query)
    assert body.get("data") is None
    assert "aliases" in body["errors"][0]["message"].lower()


async def test_too_many_tokens_are_rejected(api, tenants):
    t = await tenants.create(("owner",))
    query = "{ me { " + " ".join(["email"] * 2500) + " } }"
    body = await t.owner.execute(api, query)
    assert body.get("data") is None
    assert "token" in body["errors"][0]["message"].lower()


async def test_too_costly_query_is_rejected_and_cost_is_reported(api, tenants):
    t = await tenants.create(("owner",))
    cheap = await t.owner.execute(api, "{ orders(first: 10) { edges { node { number } } } }")
    assert cheap["extensions"]["cost"]["requested"] == 1 + 10 * (1 + 1 + 1)  # orders + 10 × (edges + node + number)
    costly = """{ accounts(first: 100) { edges { node { orders(first: 100) { edges { node {
        items { sku } account { name } } } } } } } }"""
    body = await t.owner.execute(api, costly)
    assert body.get("data") is None
    error = body["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert error["extensions"]["cost"] > error["extensions"]["maximum"]


async def test_cost_counts_first_from_variables(api, tenants):
    t = await tenants.create(("owner",))
    q = "query($n: Int) { orders(first: $n) { edges { node { number } } } }"
    small = await t.owner.execute(api, q, {"n": 1})
    large = await t.owner.execute(api, q, {"n": 100})
    assert large["extensions"]["cost"]["requested"] > small["extensions"]["cost"]["requested"]


@pytest.mark.parametrize("first", [101, -1])
async def test_page_size_is_capped(api, tenants, first):
    t = await tenants.create(("owner",))
    body = await t.owner.execute(api, "query($n: Int) { orders(first: $n) { edges { cursor } } }", {"n": first})
    assert body["data"] == {"orders": None}
    assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "between 0 and 100" in body["errors"][0]["message"]


async def test_unexpected_errors_are_masked_and_logged_with_an_id(api, tenants, monkeypatch, caplog):
    t = await tenants.create(("owner",))

    def broken(*args, **kwargs):
        raise RuntimeError("database password is hunter2")

    # Both read paths (the planned one and strawberry's) read orders through scoped_orders.
    monkeypatch.setattr(orders_schema, "scoped_orders", broken)
    with caplog.at_level(logging.ERROR, logger="crm.errors"):
        body = await t.owner.execute(api, "{ orders { edges { cursor } } }")
    error = body["errors"][0]
    assert "hunter2" not in error["message"]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    error_id = error["extensions"]["errorId"]
    assert error_id in error["message"]
    assert any(error_id in r.getMessage() and r.exc_info for r in caplog.records)
