"""Password guessing is cut off: after N failed logins for an e-mail, or M from one address,
`login` answers RATE_LIMITED without looking at the password (even a right one)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from server.app import create_app
from tests.helpers import PASSWORD, Client, TenantFactory

# Its assertions read the API's messages in English (conftest.py: the english marker).
pytestmark = pytest.mark.english

LOGIN = """mutation ($e: String!, $p: String!) {
  login(input: {email: $e, password: $p}) { token errors { code message } }
}"""


@pytest.fixture
async def strict(database):
    """The same database behind an app with small limits and its own counters."""
    settings = database.model_copy(
        update={
            "login_failures_per_email": "3/minute",
            "login_failures_per_address": "6/minute",
            "rate_limit_namespace": f"crm-throttle-{uuid.uuid4().hex[:8]}",
        }
    )
    app = create_app(settings, manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield Client(http, language="en")


async def login(api: Client, email: str, password: str) -> dict:
    return (await api.data(LOGIN, {"e": email, "p": password}))["login"]


def code(result: dict) -> str | None:
    return result["errors"][0]["code"] if result["errors"] else None


async def test_an_email_is_locked_after_its_failures_even_for_the_right_password(strict):
    tenants = TenantFactory(strict)
    victim = (await tenants.create(("owner",))).owner
    bystander = (await tenants.create(("owner",))).owner
    for _ in range(3):
        assert code(await login(strict, victim.email, "guess")) == "INVALID_CREDENTIALS"
    locked = await login(strict, victim.email, PASSWORD)
    assert locked["token"] is None and code(locked) == "RATE_LIMITED"
    assert "Try again in 1 minute" in locked["errors"][0]["message"]
    # Another account from the same address is not locked by the victim's counter.
    assert (await login(strict, bystander.email, PASSWORD))["token"]


async def test_a_successful_login_clears_the_email_counter(strict):
    user = (await TenantFactory(strict).create(("owner",))).owner
    for _ in range(2):
        assert code(await login(strict, user.email, "typo")) == "INVALID_CREDENTIALS"
    assert (await login(strict, user.email, PASSWORD))["token"]
    for _ in range(2):
        assert code(await login(strict, user.email, "typo again")) == "INVALID_CREDENTIALS"
    assert (await login(strict, user.email, PASSWORD))["token"]


async def test_one_address_spraying_many_emails_is_cut_off(strict):
    user = (await TenantFactory(strict).create(("owner",))).owner
    for n in range(6):
        assert code(await login(strict, f"spray-{n}@example.com", "password1")) == "INVALID_CREDENTIALS"
    assert code(await login(strict, user.email, PASSWORD)) == "RATE_LIMITED"
