"""The owner's report at /reports as people use it: signing in on the page in headless Chromium
with the demo shop loaded, every chart drawn inline and nothing fetched from anywhere else;
Ukrainian and English; a role without analytics gets a 403 page; another organization's
figures never show; anonymous visitors are sent to sign in; forms without their token fail."""

from __future__ import annotations

import re

from server.analytics import service as analytics
from server.analytics.models import CustomerFigures
from server.auth import principal as principals
from server.auth.models import User
from server.auth.scope import Scope
from server.demo.seed import DEMO_PASSWORD, DEMO_SLUG, demo_email, seed_demo
from server.organizations.models import Organization

CHARTS = {"cohorts": 1, "rfm": 2, "funnel": 1, "satisfaction": 1}


async def demo_shop(database) -> Organization:
    """The demo organization (another test may have loaded it), with one customer's RFM group
    moved by a recompute, so the period has a move to draw."""
    await seed_demo(postgres=database.is_postgres)
    org = await Organization.get(slug=DEMO_SLUG)
    row = await CustomerFigures.filter(organization_id=org.id, rfm_group="champions").first()
    await CustomerFigures.filter(id=row.id).update(rfm_group="hibernating")
    owner = await User.get(email=demo_email("owner"))
    await analytics.recompute_rfm(Scope(await principals.for_user(owner, DEMO_SLUG)))
    return org


async def sign_in_form(http, lang: str) -> tuple[str, dict]:
    """The sign-in form's token and the cookie it goes with (sent by hand: httpx keeps a
    Secure cookie only over https, the browser also over http://127.0.0.1)."""
    form = await http.get(f"/reports/login?lang={lang}")
    assert form.status_code == 200 and "default-src 'self'" in form.headers["content-security-policy"]
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', form.text).group(1)
    return csrf, {"Cookie": f"crm_report_csrf={form.cookies['crm_report_csrf']}"}


async def drawn_shapes(page, section: str) -> list[int]:
    """For each <svg> in the section: how many shapes it draws."""
    return await page.eval_on_selector_all(
        f"#{section} svg", "els => els.map(e => e.querySelectorAll('rect, circle, polyline').length)"
    )


async def test_an_owner_signs_in_and_sees_every_chart_drawn_offline(database, live_server, browser_page, tmp_path):
    await demo_shop(database)
    page = browser_page
    await page.goto(live_server + "/reports?lang=en")
    assert page.url.startswith(live_server + "/reports/login")  # anonymous: sign in first
    await page.fill("#email", demo_email("owner"))
    await page.fill("#password", DEMO_PASSWORD)
    async with page.expect_navigation():
        await page.click("button[type=submit]")
    assert re.match(re.escape(live_server) + r"/reports\?", page.url)
    assert await page.text_content("h1") == "Report: Демо-магазин"
    assert "Key figures" in await page.text_content("#key-figures")
    cards = await page.eval_on_selector_all("#key-figures .card .value", "els => els.map(e => e.textContent)")
    assert len(cards) == 9 and cards[1] != "0"  # orders in the last 30 days of the demo shop
    for section, count in CHARTS.items():
        shapes = await drawn_shapes(page, section)
        assert len(shapes) >= count and all(n > 0 for n in shapes), (section, shapes)
        # and every chart says in words what it shows
        assert await page.eval_on_selector_all(
            f"#{section} svg", "els => els.every(e => e.querySelector('title').textContent && e.querySelector('desc'))"
        )
    assert "Hibernating → Champions" in await page.text_content("#rfm")
    campaigns = await page.text_content("#campaigns")
    assert "Win-back" in campaigns and "Review request" in campaigns
    sent = await page.eval_on_selector_all(
        "#campaigns table tr:last-child th:nth-child(2)", "els => els.map(e => Number(e.textContent))"
    )
    assert sent and max(sent) > 0, sent  # the demo's campaigns have reached customers
    assert "A: " in campaigns and "B: " in campaigns  # the win-back's A/B test with its verdict
    await page.screenshot(path=tmp_path / "report-en.png", full_page=True)

    # Ukrainian, from the switch on the page
    async with page.expect_navigation():
        await page.click("a[hreflang=uk]")
    assert "Ключові показники" in await page.text_content("#key-figures")
    assert "Когортне утримання" in await page.text_content("#cohorts")
    assert all(n > 0 for n in await drawn_shapes(page, "funnel"))
    await page.screenshot(path=tmp_path / "report-uk.png", full_page=True)

    assert page.blocked_requests == []  # nothing left the server: no CDN, no font, no script

    # Sign out: the session token is revoked, the report asks to sign in again.
    async with page.expect_navigation():
        await page.click("header button[type=submit]")
    assert "/reports/login" in page.url
    await page.goto(live_server + "/reports")
    assert "/reports/login" in page.url


async def test_the_session_cookie_is_secure_httponly_and_strict(database, http):
    await seed_demo(postgres=database.is_postgres)
    csrf, cookie = await sign_in_form(http, "en")
    answer = await http.post(
        "/reports/login?lang=en",
        data={"email": demo_email("analyst"), "password": DEMO_PASSWORD, "csrf": csrf},
        headers=cookie,
    )
    assert answer.status_code == 303 and answer.headers["location"].startswith("/reports?")
    session = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("crm_report_session="))
    assert session.startswith("crm_report_session=crm_")
    assert all(flag in session.lower() for flag in ("httponly", "secure", "samesite=strict"))
    # The cookie is an ordinary session token: it opens the report (and GraphQL) as the analyst.
    token = session.split(";")[0].split("=", 1)[1]
    page = await http.get("/reports?lang=en", headers={"Cookie": f"crm_report_session={token}"})
    assert page.status_code == 200 and "Key figures" in page.text
    http.cookies.clear()


async def test_a_sign_in_without_the_forms_token_is_refused(database, http):
    await seed_demo(postgres=database.is_postgres)
    answer = await http.post(
        "/reports/login?lang=en", data={"email": demo_email("owner"), "password": DEMO_PASSWORD, "csrf": "x" * 64}
    )
    assert answer.status_code == 403 and "The form has expired" in answer.text
    assert "set-cookie" not in answer.headers or "crm_report_session" not in answer.headers["set-cookie"]
    http.cookies.clear()


async def test_a_wrong_password_is_said_on_the_page_in_ukrainian(database, http):
    csrf, cookie = await sign_in_form(http, "uk")
    answer = await http.post(
        "/reports/login?lang=uk",
        data={"email": "nobody@example.com", "password": "wrong-password", "csrf": csrf},
        headers=cookie,
    )
    assert answer.status_code == 401 and "Неправильна адреса або пароль." in answer.text
    http.cookies.clear()


async def test_anonymous_visitors_are_sent_to_sign_in(http):
    answer = await http.get("/reports?lang=en")
    assert answer.status_code == 303 and answer.headers["location"] == "/reports/login?lang=en"
    expired = await http.get("/reports", headers={"Authorization": "Bearer crm_not-a-token"})
    assert expired.status_code == 401


async def test_a_role_without_analytics_gets_a_translated_403(api, tenants, http):
    tenant = await tenants.create(("owner", "sales", "support"))
    for role in ("sales", "support"):
        member = getattr(tenant, role)
        headers = {"Authorization": f"Bearer {member.token}", "X-Organization": tenant.slug}
        english = await http.get("/reports?lang=en", headers=headers)
        assert english.status_code == 403 and "Your role does not allow reading the reports" in english.text
        ukrainian = await http.get("/reports", headers={**headers, "Accept-Language": "uk-UA,uk;q=0.9"})
        assert ukrainian.status_code == 403 and "Ваша роль не дозволяє переглядати звіти" in ukrainian.text
    owner = await http.get("/reports?lang=en", headers={"Authorization": f"Bearer {tenant.owner.token}"})
    assert owner.status_code == 200 and "Key figures" in owner.text


async def test_another_organizations_figures_never_show(database, api, tenants, http):
    await demo_shop(database)
    demo = await api.data(
        "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) { token } }",
        {"e": demo_email("owner"), "p": DEMO_PASSWORD},
    )
    demo_page = await http.get("/reports?lang=en", headers={"Authorization": f"Bearer {demo['login']['token']}"})
    assert demo_page.status_code == 200
    pipelines = re.findall(r"<h3>([^<]+)</h3>", demo_page.text.split('id="funnel"')[1].split("</section>")[0])
    assert pipelines  # the demo shop's pipelines have deals in the period

    other = (await tenants.create(("owner",))).owner
    page = await http.get("/reports?lang=en", headers={"Authorization": f"Bearer {other.token}"})
    assert page.status_code == 200 and "Shop t-" in page.text and "Демо-магазин" not in page.text
    assert "No deals were created in this period." in page.text
    assert "No customers have been scored yet." in page.text and "Hibernating → Champions" not in page.text
    assert "No survey answers in this period." in page.text
    assert "<svg" not in page.text
    # The demo owner cannot open the other organization by its slug either.
    probe = await http.get(
        f"/reports?lang=en&org={other.org}", headers={"Authorization": f"Bearer {demo['login']['token']}"}
    )
    assert probe.status_code == 403 and "<svg" not in probe.text


def test_chart_labels_are_escaped_and_every_chart_is_well_formed_svg():
    from xml.etree import ElementTree

    from server.reports import charts

    hostile = '<script>alert("x")</script> & Co'
    drawn = [
        charts.bar_chart(hostile, hostile, [(hostile, 3), ("b", 0)]),
        charts.line_chart(hostile, hostile, [hostile, "b"], [(hostile, [10, None])]),
        charts.heatmap(hostile, hostile, [hostile], ["0", hostile], [[100.0, None]]),
        charts.funnel(hostile, hostile, [(hostile, 4), ("won", 1)]),
    ]
    for svg in drawn:
        assert "<script" not in svg
        root = ElementTree.fromstring(svg)  # noqa: S314 - our own output; well-formed: every label escaped
        assert root.find("{http://www.w3.org/2000/svg}title").text == hostile
        assert hostile in "".join(root.itertext())


async def test_a_wrong_date_is_said_on_the_page(api, tenants, http):
    owner = (await tenants.create(("owner",))).owner
    headers = {"Authorization": f"Bearer {owner.token}"}
    bad = await http.get("/reports?lang=en&from=2026-13-01", headers=headers)
    assert bad.status_code == 400 and "Give the date as YYYY-MM-DD: 2026-13-01" in bad.text
    backwards = await http.get("/reports?lang=uk&from=2026-03-01&to=2026-02-01", headers=headers)
    assert backwards.status_code == 400 and "<svg" not in backwards.text
    chosen = await http.get("/reports?lang=en&from=2026-02-01&to=2026-02-28", headers=headers)
    assert chosen.status_code == 200
    assert "Feb 1, 2026 – Feb 28, 2026, compared with Jan 4, 2026 – Jan 31, 2026" in chosen.text
