"""GraphiQL at /graphql, as a person opens it in Chromium on a network that reaches only the
server: it loads from the server's own files, opens on the sign-in tab, and runs what is typed."""

from __future__ import annotations

import os

from tests.helpers import PASSWORD

# Set to a directory to keep a screenshot of the page after the query ran (never committed).
SCREENSHOTS = os.environ.get("CRM_TEST_SCREENSHOTS")


async def _replace_editor_text(page, editor_selector: str, text: str) -> None:
    """Select everything in a GraphiQL editor and put ``text`` there, as pasting would (typing
    key by key would let the editor auto-close brackets)."""
    await page.locator(f"{editor_selector} .CodeMirror >> visible=true").click()
    await page.keyboard.press("Control+A")
    await page.keyboard.insert_text(text)


async def _run_and_read_result(page, operation: str) -> str:
    # GraphiQL sends the operation name it has parsed from the editor, a moment after an edit;
    # the tab's title shows it, so wait for the title as a person would glance at it.
    await page.locator(".graphiql-tab-active", has_text=operation).wait_for(timeout=10_000)
    await page.click(".graphiql-execute-button")
    result = page.locator(".graphiql-response .CodeMirror-code")
    try:
        await result.filter(has_text='"data"').first.wait_for(timeout=15_000)
    except Exception:
        if SCREENSHOTS:
            await page.screenshot(path=os.path.join(SCREENSHOTS, "graphiql-failed.png"))
        raise
    return await result.inner_text()


async def test_graphiql_loads_offline_opens_on_sign_in_and_runs_a_query(browser_page, live_server, tenants):
    tenant = await tenants.create(roles=("manager",))
    email = tenant.manager.email
    page = browser_page
    console_errors: list[str] = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)

    response = await page.goto(live_server + "/graphql", wait_until="networkidle")
    assert response.status == 200
    await page.locator(".graphiql-query-editor .CodeMirror").first.wait_for(timeout=15_000)

    # The first tab says how to sign in and which header to set.
    first_tab = await page.locator(".graphiql-query-editor .CodeMirror-code").inner_text()
    assert "mutation SignIn" in first_tab and "login(input:" in first_tab
    assert "Headers" in first_tab and "PASTE-THE-TOKEN-HERE" in first_tab
    headers = await page.locator(".graphiql-editor-tool .CodeMirror-code >> visible=true").inner_text()
    assert '"Authorization": "Bearer PASTE-THE-TOKEN-HERE"' in headers

    # Sign in from the page, as the tab says.
    login = (
        f'mutation SignIn {{ login(input: {{email: "{email}", password: "{PASSWORD}"}}) '
        "{ token errors { code } } }"
    )
    await _replace_editor_text(page, ".graphiql-query-editor", login)
    result = await _run_and_read_result(page, "SignIn")
    assert '"token": "' in result and '"errors": []' in result, result
    token = await page.evaluate(
        "() => JSON.parse(document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue())"
        ".data.login.token"
    )
    assert token

    # Put the token in the Headers editor and ask who is calling.
    await page.get_by_role("button", name="Headers").click()
    await _replace_editor_text(page, ".graphiql-editor-tool", f'{{"Authorization": "Bearer {token}"}}')
    await _replace_editor_text(page, ".graphiql-query-editor", "query WhoAmI { me { email role } }")
    result = await _run_and_read_result(page, "WhoAmI")
    assert f'"email": "{email}"' in result and '"role": "manager"' in result, result

    if SCREENSHOTS:
        await page.screenshot(path=os.path.join(SCREENSHOTS, "graphiql.png"), full_page=True)
    # Everything came from the server: no CDN, no font service, no errors in the console.
    assert page.blocked_requests == []
    assert console_errors == []


async def test_graphiql_assets_are_cached_by_version(http):
    page = await http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "unpkg.com" not in page.text and "jsdelivr" not in page.text
    script = await http.get("/graphql/static/graphiql/graphiql-3.9.0.min.js")
    assert script.status_code == 200
    assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert script.headers["content-type"].startswith("text/javascript")
    starter = await http.get("/graphql/static/graphiql-start.js")
    assert starter.headers["cache-control"] == "no-cache" and starter.headers["etag"]
    assert (await http.get("/graphql/static/../app.py")).status_code == 404
