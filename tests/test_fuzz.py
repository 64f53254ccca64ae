"""Fuzz: hostile values in every argument and input field of every mutation never make the
server fail. Each answer is data with user errors, or a GraphQL error the caller can act on,
never an INTERNAL_SERVER_ERROR and never an HTTP 5xx.

The test reads the served schema by introspection, so a new mutation or field is fuzzed
without touching this file. It is bounded and deterministic: a fixed seed per field, a fixed
number of values per field, mutations batched a few per request (one request per value when
a value fails variable coercion and takes its batch down with it). Run it alone with
``pytest -k fuzz``; a failure lists each case with its error id, and the traceback is in the
captured log (``crm.errors``)."""

from __future__ import annotations

import json
import logging
import random
import re

from tests.test_accounts import make_account, make_contact, make_order

SEED = "crm-fuzz-1"
PER_FIELD = 4  # hostile values per field: the two worst of its type, and two drawn with the seed
BATCH = 8  # mutations per request (the alias limit is 15)
MAX_DEPTH = {"mutation": 3, "query": 2}  # input objects nested in input objects (filters nest AND/OR)
VARIABLE = re.compile(r"Variable '\$v(\d+)_")

INTROSPECTION = """{ __schema {
  queryType { fields { name args { name type { ...T } } type { ...T } } }
  mutationType { fields { name args { name type { ...T } } type { ...T } } }
  types { name kind inputFields { name type { ...T } defaultValue } enumValues { name } } } }
fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }"""

DEEP_JSON: object = 1
for _ in range(100):  # beyond any depth we store, within what a JSON parser takes
    DEEP_JSON = [DEEP_JSON]

# The first two of each list are always sent; the rest are drawn with the seed.
HOSTILE: dict[str, list] = {
    "String": ["a\x00b", "a\ud800b", "x" * 10_000, "", "   ", "\ud83d", "я" * 301, "-1", "NaN", "%s%n{0}", "\u202e"],
    "ID": ["", "\x00", "!!!", "QWNjb3VudDpub3QtYS11dWlk", "bm90aGluZw", "OTHER_TENANT", "OTHER_TYPE", "x" * 10_000],
    "Decimal": [
        "NaN",
        "1e999",
        "Infinity",
        "-Infinity",
        "-1e999",
        "1e-999",
        "-1",
        "0.0000001",
        "9" * 40,
        "abc",
        "sNaN",
    ],
    "Int": [-1, 2**31 - 1, -(2**31), 0, 2**31],
    "Float": [1e308, -1e308, -0.0, 2**53 + 1],
    "Boolean": [None, "true"],
    "DateTime": [
        "2026-01-01T10:00:00",
        "0001-01-01T00:00:00+00:00",
        "9999-12-31T23:59:59+14:00",
        "2026-13-45T00:00:00+00:00",
        "2026-01-01T10:00:00+99:00",
        "",
    ],
    "Date": ["0001-01-01", "9999-12-31", "2026-02-30", ""],
    "JSON": [
        DEEP_JSON,
        {f"k{i}": i for i in range(5_000)},
        {"k": "a\x00b"},
        {"a\ud800": 1},
        "text",
        [1, 2],
        1e308,
        {"": None},
    ],
    "ENUM": ["NOT_A_VALUE", "\ud800", ""],
}
BASELINE = {
    "String": "fuzz",
    "Decimal": "1",
    "Int": 1,
    "Float": 1.0,
    "Boolean": False,
    "DateTime": "2026-01-01T10:00:00+00:00",
    "Date": "2026-01-01",
    "JSON": {},
}
# Plausible values for fields by name, so a case gets past the fields it does not test.
BY_NAME = {
    "email": "fuzz@example.com",
    "phone": "+380671234567",
    "phones": ["+380671234567"],
    "currency": "UAH",
    "quantity": "1",
    "unitPrice": "10",
    "password": "correct horse battery",
    "version": 999_999,  # a stale version: updates and deletes validate, then change nothing
    "status": "new",
    "code": "fuzz",
}


def unwrap(t: dict) -> tuple[dict, bool, bool]:
    """(named type, non-null, is a list)."""
    non_null = t["kind"] == "NON_NULL"
    if non_null:
        t = t["ofType"]
    is_list = t["kind"] == "LIST"
    while t.get("ofType"):
        t = t["ofType"]
    return t, non_null, is_list


class Fuzzer:
    def __init__(self, schema: dict, ids: dict[str, str], foreign: dict[str, str], max_depth: int):
        self.types = {t["name"]: t for t in schema["types"]}
        self.max_depth = max_depth
        self.ids, self.foreign = ids, foreign

    def id_for(self, field: str, mutation: str) -> str:
        """An ID of the kind a field names (accountId -> an account), else of the mutation's object."""
        if field.endswith("Ids"):
            noun = field[:-3]
        elif field.endswith("Id"):
            noun = field[:-2]
        else:
            noun = mutation
        noun = noun.lower()
        for type_name, gid in sorted(self.ids.items(), key=lambda kv: -len(kv[0])):
            if type_name.lower() in noun:
                return gid
        return self.ids["Account"]

    def baseline(self, t: dict, name: str, mutation: str, depth: int = 0):
        named, _, is_list = unwrap(t)
        value = self._one(named, name, mutation, depth)
        if name in BY_NAME and not (is_list and not isinstance(BY_NAME[name], list)):
            return BY_NAME[name]
        return [value] if is_list else value

    def _one(self, named: dict, name: str, mutation: str, depth: int):
        if named["kind"] == "INPUT_OBJECT":
            return {
                f["name"]: self.baseline(f["type"], f["name"], mutation, depth + 1)
                for f in self.types[named["name"]]["inputFields"]
                if f["type"]["kind"] == "NON_NULL" and f["defaultValue"] is None
            }
        if named["kind"] == "ENUM":
            return self.types[named["name"]]["enumValues"][0]["name"]
        if named["name"] == "ID":
            return self.id_for(name, mutation)
        if name in BY_NAME and not isinstance(BY_NAME[name], list):
            return BY_NAME[name]
        return BASELINE.get(named["name"], "fuzz")

    def hostile(self, t: dict, path: str, name: str, mutation: str) -> list:
        named, non_null, is_list = unwrap(t)
        kind = "ENUM" if named["kind"] == "ENUM" else named["name"]
        pool = [self._resolve(v, name, mutation) for v in HOSTILE.get(kind, HOSTILE["String"])]
        rng = random.Random(f"{SEED}:{mutation}:{path}")
        values = pool[:2] + rng.sample(pool[2:], min(PER_FIELD - 2, len(pool) - 2))
        if not non_null:
            values.append(None)
        if is_list:
            values = [[v] for v in values] + [[]]
        return values

    def _resolve(self, value, name: str, mutation: str):
        if value == "OTHER_TENANT":
            return self.foreign.get(self._type_of(name, mutation), next(iter(self.foreign.values())))
        if value == "OTHER_TYPE":
            mine = self.id_for(name, mutation)
            return next(gid for gid in self.ids.values() if gid != mine)
        return value

    def _type_of(self, name: str, mutation: str) -> str:
        gid = self.id_for(name, mutation)
        return next(t for t, g in self.ids.items() if g == gid)

    def cases(self, field: dict):
        """(description, variables) for each hostile value of each argument and input field."""
        mutation = field["name"]
        base = {a["name"]: self.baseline(a["type"], a["name"], mutation) for a in field["args"]}
        for arg in field["args"]:
            yield from self._walk(mutation, base, [arg["name"]], arg["type"], 0)

    def _walk(self, mutation: str, base: dict, path: list, t: dict, depth: int):
        named, _, is_list = unwrap(t)
        name = path[-1]
        for value in self.hostile(t, ".".join(map(str, path)), name, mutation):
            yield f"{mutation}({'.'.join(map(str, path))}={_short(value)})", _replace(base, path, value)
        if named["kind"] == "INPUT_OBJECT" and depth < self.max_depth:
            inner_path = [*path, 0] if is_list else path
            if is_list:
                base = _replace(base, path, [self._one(named, name, mutation, depth)])
            for f in self.types[named["name"]]["inputFields"]:
                yield from self._walk(mutation, base, [*inner_path, f["name"]], f["type"], depth + 1)


def _replace(base, path: list, value):
    """A copy of ``base`` with ``value`` at ``path`` (only the containers on the path are copied)."""
    if not path:
        return value
    key, rest = path[0], path[1:]
    if isinstance(key, int):
        out = list(base)
        out[key] = _replace(out[key], rest, value)
        return out
    out = dict(base or {})
    out[key] = _replace(out.get(key) or {}, rest, value)
    return out


def _short(value) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _document(operation: str, calls: list[tuple[dict, dict]]) -> tuple[str, dict]:
    """One document running each (field, variables) under its own alias."""
    params, body, variables = [], [], {}
    for i, (field, values) in enumerate(calls):
        args = []
        for arg in field["args"]:
            var = f"v{i}_{arg['name']}"
            params.append(f"${var}: {_type_ref(arg['type'])}")
            args.append(f"{arg['name']}: ${var}")
            variables[var] = values[arg["name"]]
        selection = "{ __typename }" if unwrap(field["type"])[0]["kind"] in ("OBJECT", "INTERFACE", "UNION") else ""
        body.append(f"m{i}: {field['name']}({', '.join(args)}) {selection}")
    return f"{operation} Fuzz({', '.join(params)}) {{ {' '.join(body)} }}", variables


def _type_ref(t: dict) -> str:
    if t["kind"] == "NON_NULL":
        return _type_ref(t["ofType"]) + "!"
    if t["kind"] == "LIST":
        return f"[{_type_ref(t['ofType'])}]"
    return t["name"]


async def _send(member, http, document: str, variables: dict):
    # Serialized here with ASCII escapes, so a lone surrogate reaches the server as JSON
    # "\ud800" the way a browser's JSON.stringify sends it.
    body = json.dumps({"query": document, "variables": variables}, ensure_ascii=True)
    return await http.post(
        "/graphql",
        content=body,
        headers={
            "Authorization": f"Bearer {member.token}",
            "X-Organization": member.org,
            "Content-Type": "application/json",
        },
    )


async def _fixtures(api, tenants) -> tuple:
    """An organization with one record of each kind the mutations take IDs of, a second member
    to aim member mutations at (never the fuzzing owner), and another organization's IDs."""
    t = await tenants.create(("owner", "sales"))
    other = await tenants.create(("owner",))
    ids, foreign = {}, {}
    for tenant, out in ((t, ids), (other, foreign)):
        account = await make_account(tenant.owner, api)
        contact = await make_contact(tenant.owner, api, account["id"])
        order = await make_order(tenant.owner, api, account["id"])
        data = await tenant.owner.data(
            api,
            """mutation($a: ID!) {
              d: createDeal(input: {accountId: $a, title: "Fuzz"}) { deal { id pipeline { id stages { id } } } }
              t: createTicket(input: {subject: "Fuzz", accountId: $a}) { ticket { id } }
              n: createActivity(input: {kind: TASK, accountId: $a, subject: "Fuzz"}) { activity { id } }
            }""",
            {"a": account["id"]},
        )
        statuses = await tenant.owner.data(api, "{ orderStatuses { id } members { id } teams { id } }")
        deal = data["d"]["deal"]
        out.update(
            Account=account["id"],
            Contact=contact["id"],
            Order=order["id"],
            Deal=deal["id"],
            Pipeline=deal["pipeline"]["id"],
            Stage=deal["pipeline"]["stages"][0]["id"],
            Ticket=data["t"]["ticket"]["id"],
            Activity=data["n"]["activity"]["id"],
            OrderStatus=statuses["orderStatuses"][0]["id"],
        )
        members = [m["id"] for m in statuses["members"]]
        out["Member"] = members[-1]
    # Member mutations aim at the salesperson, so the owner keeps its role and its token.
    me = await t.owner.data(api, "{ me { user { id } } }")
    sales = await t.sales.data(api, "{ me { user { id } } }")
    members = (await t.owner.data(api, "{ members { id user { id } } }"))["members"]
    ids["Member"] = next(m["id"] for m in members if m["user"]["id"] == sales["me"]["user"]["id"])
    ids["User"] = sales["me"]["user"]["id"]
    assert me["me"]["user"]["id"] != ids["User"]
    return t, ids, foreign


async def test_fuzz_mutations_never_fail_internally(api, http, tenants, caplog):
    cases = await _fuzz(api, http, tenants, caplog, "mutation")
    assert cases > 1_000  # every mutation's every field, not a token sample


async def test_fuzz_query_arguments_never_fail_internally(api, http, tenants, caplog):
    """The same for every argument of every query field: filters, search texts, IDs, paging."""
    cases = await _fuzz(api, http, tenants, caplog, "query")
    assert cases > 300


async def _fuzz(api, http, tenants, caplog, operation: str) -> int:
    t, ids, foreign = await _fixtures(api, tenants)
    schema = (await t.owner.data(api, INTROSPECTION))["__schema"]
    fuzzer = Fuzzer(schema, ids, foreign, MAX_DEPTH[operation])
    root = schema["mutationType" if operation == "mutation" else "queryType"]
    fields = [f for f in root["fields"] if f["args"] and f["name"] not in ("login",)]
    cases = [(desc, field, values) for field in fields for desc, values in fuzzer.cases(field)]

    failures: list[str] = []
    caplog.set_level(logging.ERROR, logger="crm.errors")

    async def run(batch: list) -> None:
        document, variables = _document(operation, [(field, values) for _, field, values in batch])
        response = await _send(t.owner, http, document, variables)
        if response.status_code >= 500:
            failures.append(f"HTTP {response.status_code}: {', '.join(d for d, _, _ in batch)}")
            return
        body = response.json()
        if body.get("data") is None and len(batch) > 1:
            # Values that fail variable coercion take the whole batch down: they got their
            # answer (a coercion error, named by variable); the rest run again without them.
            refused = {int(i) for e in body.get("errors") or [] for i in VARIABLE.findall(e.get("message", ""))}
            rest = [case for i, case in enumerate(batch) if i not in refused]
            if refused and rest:
                await run(rest)
            elif not refused:
                for one in batch:
                    await run([one])
            return
        for error in body.get("errors") or []:
            if (error.get("extensions") or {}).get("code") == "INTERNAL_SERVER_ERROR":
                path = error.get("path") or ["m0"]
                desc = batch[int(str(path[0])[1:])][0] if str(path[0]).startswith("m") else "?"
                failures.append(f"{desc}: {error['extensions'].get('errorId')}")

    for start in range(0, len(cases), BATCH):
        await run(cases[start : start + BATCH])

    assert not failures, f"{len(failures)} of {len(cases)} cases failed internally:\n" + "\n".join(failures)
    return len(cases)


async def test_fuzz_login_never_fails_internally(api, http, tenants):
    """login is fuzzed apart, with few values: every failed attempt counts toward the throttle."""
    t = await tenants.create(("owner",))
    for email in ("a\x00b@x.ua", "a\ud800@x.ua", "x" * 10_000, ""):
        for password in ("p\x00", "\udfff", "x" * 10_000):
            response = await _send(
                t.owner,
                http,
                "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token errors { code } } }",
                {"e": email, "p": password},
            )
            assert response.status_code < 500
            body = response.json()
            assert body["data"]["login"]["token"] is None, body
            assert not body.get("errors"), body
