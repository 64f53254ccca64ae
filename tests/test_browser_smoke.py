"""The browser test kit itself: Chromium opens a page of the live server, in the language the
browser asks for, and nothing outside the server is reachable from it."""


async def test_chromium_opens_a_page_of_the_live_server_in_its_language(browser, live_server):
    context = await browser.new_context(locale="en-US")
    page = await context.new_page()
    response = await page.goto(live_server + "/no-such-page")
    assert response.status == 404
    assert "Page not found" in await page.inner_text("body")
    await context.close()


async def test_the_page_reaches_only_the_live_server(browser_page, live_server):
    await browser_page.goto(live_server + "/health")
    reached = await browser_page.evaluate(
        "fetch('https://cdn.jsdelivr.net/npm/graphiql').then(() => true, () => false)"
    )
    assert reached is False
    assert browser_page.blocked_requests == ["https://cdn.jsdelivr.net/npm/graphiql"]
