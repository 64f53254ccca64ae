UPDATE = """mutation($i: UpdateOrganizationInput!) { updateOrganization(input: $i) {
    organization { name currency locale timezone } errors { field code message } } }"""


async def test_admin_changes_organization_defaults(api, tenants):
    t = await tenants.create(("admin", "manager"))
    body = await t.admin.data(
        api,
        UPDATE,
        {"i": {"name": "Квіткова крамниця", "currency": "eur", "locale": "en", "timezone": "Europe/Warsaw"}},
    )
    assert body["updateOrganization"] == {
        "organization": {"name": "Квіткова крамниця", "currency": "EUR", "locale": "en", "timezone": "Europe/Warsaw"},
        "errors": [],
    }
    me = await t.manager.data(api, "{ me { organization { name currency } } }")
    assert me["me"]["organization"] == {"name": "Квіткова крамниця", "currency": "EUR"}


async def test_bad_values_and_roles(api, tenants):
    t = await tenants.create(("admin", "manager"))
    bad = await t.admin.data(api, UPDATE, {"i": {"timezone": "Mars/Olympus"}})
    assert bad["updateOrganization"]["errors"][0]["field"] == "timezone"
    bad = await t.admin.data(api, UPDATE, {"i": {"currency": "XYZ"}})
    assert bad["updateOrganization"]["errors"][0]["field"] == "currency"
    refused = await t.manager.execute(api, UPDATE, {"i": {"name": "Mine"}})
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
