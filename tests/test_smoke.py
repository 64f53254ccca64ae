async def test_login_me_and_create_account(api, tenants):
    t = await tenants.create(("owner",))
    me = await t.owner.data(api, "{ me { email role organization { name } } }")
    assert me["me"]["role"] == "owner"
    assert me["me"]["organization"]["name"] == f"Shop {t.slug}"
    data = await t.owner.data(
        api,
        """mutation { createAccount(input: {name: "Олена Коваль", phones: ["067 123 45 67"]}) {
        account { id name phone } errors { field code message } } }""",
    )
    assert data["createAccount"]["errors"] == []
    assert data["createAccount"]["account"]["phone"] == "+380671234567"
