"""The plugin platform: discovery and validation, installations through GraphQL (config
validation, secrets never readable and encrypted at rest, permissions, tenancy), audit and
events."""

from __future__ import annotations

import pytest
from tortoise.connection import get_connection

from server.audit.models import AuditEntry
from server.core.models import OutboxEvent
from server.graphql import ids
from server.plugins import crypto, service
from server.plugins import manager as plugin_manager
from server.plugins.manager import PluginLoadError, PluginManager, get_manager
from server.plugins.models import PluginInstallation
from server.plugins.testing import (
    CONFIGURE,
    DISABLE,
    ENABLE,
    INSTALL,
    INSTALLATIONS,
    PLUGINS,
    ROTATE,
    TEST_CONNECTION,
    UNINSTALL,
)
from tests.plugin_fixtures import broken, fake_pbx

SECRET = "sk_live_Xq7-unmistakable-secret-value"
CONFIG = {"company_id": 4242}
SECRETS = {"api_key": fake_pbx.GOOD_KEY, "api_secret": SECRET}


@pytest.fixture
def pbx():
    """The fake PBX plugin, registered in this process (idempotent across tests)."""
    manager = get_manager()
    if manager.get(fake_pbx.NAME) is None:
        manager.register(fake_pbx, fake_pbx.NAME)
    return manager.get(fake_pbx.NAME)


def errors(payload: dict) -> list[tuple]:
    return [(e["field"], e["code"]) for e in payload["errors"]]


async def install(member, api, **fields) -> dict:
    fields.setdefault("plugin", fake_pbx.NAME)
    fields.setdefault("config", CONFIG)
    fields.setdefault("secrets", SECRETS)
    return (await member.data(api, INSTALL, {"i": fields}))["installPlugin"]


async def installed(member, api, **fields) -> dict:
    payload = await install(member, api, **fields)
    assert payload["errors"] == [], payload
    return payload


async def configure(member, api, inst: dict, **fields) -> dict:
    variables = {"i": {"id": inst["id"], "version": inst["version"], **fields}}
    return (await member.data(api, CONFIGURE, variables))["configurePlugin"]


# -- discovery and validation ----------------------------------------------------------------


def test_manager_registers_validates_and_lists(pbx):
    m = PluginManager()
    loaded = m.register(fake_pbx, fake_pbx.NAME)
    assert loaded.info.version == "1.2.3"
    assert loaded.secret_fields == {"api_key", "api_secret"}
    assert [p.name for p in m.list_plugins()] == ["fake-pbx"]
    assert m.get("fake-pbx") is loaded and m.get("nope") is None
    assert m.implements("fake-pbx", "crm_webhook") and not m.implements("fake-pbx", "crm_messaging_send")
    with pytest.raises(PluginLoadError, match="already registered"):
        m.register(fake_pbx, fake_pbx.NAME)


@pytest.mark.parametrize(
    ("obj", "name", "message"),
    [
        (broken.NoHooks(), "no-hooks", "capability 'telephony' needs the hooks"),
        (broken.WrongName(), "wrong-name", "registered as 'wrong-name'"),
        (broken.Typo(), "typo", "'crm_webhok' is not a hook"),
        (broken.UnknownCapability(), "unknown-cap", "unknown capabilities"),
        (object(), "empty", "no crm_plugin_info"),
        (broken.NoHooks(), "Bad Name", "not a valid plugin name"),
        (
            broken.Declares(api_version=""),
            "declares",
            'must say which plugin API it was written for: api_version="1.1"',
        ),
        (broken.Declares(api_version="2.0"), "declares", "written for plugin API 2.0; this CRM speaks 1.1"),
        (broken.Declares(api_version="1.2"), "declares", "written for plugin API 1.2"),
        (broken.Declares(api_version="one"), "declares", "not a version like"),
        (broken.Declares(channels=()), "declares", "declares the channels it sends over"),
        (broken.Declares(channels=("SMS!",)), "declares", "channel names are lower-case words"),
        (broken.Declares(channels=("sms", "sms")), "declares", "each once"),
        (broken.Declares(capabilities=("webhooks",)), "declares", "channels are for the 'messaging' capability"),
    ],
)
def test_manager_refuses_invalid_plugins(obj, name, message):
    m = PluginManager()
    with pytest.raises(PluginLoadError, match=message):
        m.register(obj, name)
    assert m.list_plugins() == []
    assert m.pm.get_plugin(name) is None


def test_a_plugin_for_an_older_minor_of_the_api_loads(monkeypatch):
    from server.plugins import hookspecs

    monkeypatch.setattr(hookspecs, "API_VERSION", "1.3")
    assert hookspecs.api_version_problem("1.0", "1.3") is None
    assert hookspecs.api_version_problem("1.3", "1.3") is None
    assert "1.4" in hookspecs.api_version_problem("1.4", "1.3")
    loaded = PluginManager().register(broken.Declares(api_version="1.2", channels=("sms", "whatsapp")), "declares")
    assert loaded.info.channels == ("sms", "whatsapp")


def test_entry_point_errors_do_not_stop_other_plugins(monkeypatch):
    class EP:
        def __init__(self, name, target):
            self.name, self.target, self.dist = name, target, None

        def load(self):
            if isinstance(self.target, Exception):
                raise self.target
            return self.target

    eps = [EP("fake-pbx", fake_pbx), EP("boom", ImportError("no module named boom")), EP("no-hooks", broken.NoHooks())]
    monkeypatch.setattr(plugin_manager.metadata, "entry_points", lambda group: eps)
    m = PluginManager()
    m.load_entrypoints()
    assert [p.name for p in m.list_plugins()] == ["fake-pbx"]
    assert set(m.errors) == {"boom", "no-hooks"}
    assert "ImportError" in m.errors["boom"]


def test_list_plugins_for_the_cli(pbx):
    rows = {row["name"]: row for row in plugin_manager.list_plugins()}
    assert rows["fake-pbx"]["capabilities"] == ["telephony", "webhooks", "domain_events"]
    assert rows["fake-pbx"]["error"] is None


def test_secrets_encryption_roundtrip_and_rotation(database):
    new = database.model_copy(update={"secret_key": "the-new-key"})
    token = crypto.encrypt(database, "inst-1", {"api_key": SECRET})
    assert SECRET not in token
    assert crypto.decrypt(database, "inst-1", token) == {"api_key": SECRET}
    with pytest.raises(crypto.SecretsUnreadable):
        crypto.decrypt(database, "inst-2", token)  # bound to its installation
    with pytest.raises(crypto.SecretsUnreadable):
        crypto.decrypt(new, "inst-1", token)  # the key changed, the old one is not configured
    rotating = new.model_copy(update={"old_secret_keys": [database.secret_key]})
    assert crypto.decrypt(rotating, "inst-1", token) == {"api_key": SECRET}
    rotated = crypto.rotate(rotating, token)
    assert crypto.decrypt(new, "inst-1", rotated) == {"api_key": SECRET}


# -- the API -------------------------------------------------------------------------------


async def test_plugins_query_lists_capabilities_and_config_schema(api, tenants, pbx):
    t = await tenants.create(("owner",))
    plugins = {p["name"]: p for p in (await t.owner.data(api, PLUGINS))["plugins"]}
    p = plugins["fake-pbx"]
    assert p["title"] == "Fake PBX" and p["version"] == "1.2.3"
    assert p["capabilities"] == ["telephony", "webhooks", "domain_events"]
    fields = {f["name"]: f for f in p["configSchema"]}
    assert fields["api_key"] == {
        "name": "api_key",
        "type": "STRING",
        "required": True,
        "secret": True,
        "label": "API key",
        "help": "From the PBX cabinet.",
        "default": None,
        "choices": [],
    }
    assert fields["region"]["choices"] == ["ua", "pl"] and fields["region"]["default"] == "ua"


async def test_install_configure_and_secrets_never_come_back(api, tenants, pbx, database):
    t = await tenants.create(("owner",))
    payload = await installed(t.owner, api)
    inst = payload["installation"]
    assert payload["webhookUrl"].startswith("http://testserver/hooks/fake-pbx/")
    assert payload["webhookNote"] == "Registered with Fake PBX."
    assert inst["pluginName"] == "fake-pbx" and inst["plugin"]["title"] == "Fake PBX"
    assert inst["config"] == CONFIG and inst["secretsSet"] == ["api_key", "api_secret"]
    assert inst["enabled"] is True and inst["version"] == 1

    # Secrets merge: a new key keeps api_secret; null removes a secret.
    result = await configure(t.owner, api, inst, config={"region": "pl"}, secrets={"api_key": "rotated-key"})
    assert result["errors"] == []
    inst = result["installation"]
    assert inst["config"] == {"company_id": 4242, "region": "pl"} and inst["version"] == 2
    assert inst["secretsSet"] == ["api_key", "api_secret"]
    result = await configure(t.owner, api, inst, secrets={"api_secret": None})
    inst = result["installation"]
    assert inst["secretsSet"] == ["api_key"]

    # The whole API answer never holds a secret value.
    for query in (INSTALLATIONS, PLUGINS):
        body = await t.owner.execute(api, query)
        assert SECRET not in str(body) and "rotated-key" not in str(body)
    row = await PluginInstallation.get(id=ids.decode(inst["id"])[1])
    assert service.read_secrets(database, row) == {"api_key": "rotated-key"}


async def test_secrets_are_not_plain_text_in_the_database(api, tenants, pbx):
    t = await tenants.create(("owner",))
    inst = (await installed(t.owner, api))["installation"]
    pk = ids.decode(inst["id"])[1]
    rows = await get_connection("default").execute_query_dict("SELECT * FROM plugin_installation")
    dump = repr(rows)
    assert len(rows) >= 1 and "api_secret" in dump  # the names of the set secrets are not secret
    assert SECRET not in dump and fake_pbx.GOOD_KEY not in dump
    token = (await PluginInstallation.get(id=pk)).secrets
    assert token.startswith("gAAAA")  # a Fernet token
    # Nor in the audit trail or the outbox.
    audit = await AuditEntry.filter(entity_id=pk).values_list("changes", flat=True)
    events = await OutboxEvent.filter(topic__startswith="plugin.").values_list("payload", flat=True)
    assert SECRET not in repr(audit) and SECRET not in repr(events)
    assert audit[0]["secrets_set"] == [None, ["api_key", "api_secret"]]


async def test_config_validation_errors_point_at_the_field(api, tenants, pbx):
    t = await tenants.create(("owner",))
    cases = [
        ({"config": {"company_id": 1, "colour": "red"}}, ("config.colour", "INVALID")),
        ({"config": {}}, ("config.company_id", "REQUIRED")),
        ({"secrets": {"api_secret": "x"}}, ("secrets.api_key", "REQUIRED")),
        ({"config": {"company_id": "42"}}, ("config.company_id", "INVALID")),
        ({"config": {"company_id": True}}, ("config.company_id", "INVALID")),
        ({"config": {"company_id": 1, "region": "de"}}, ("config.region", "INVALID")),
        ({"config": {"company_id": 1, "api_url": "ftp://x"}}, ("config.api_url", "INVALID")),
        ({"config": {"company_id": 1, "record_calls": "yes"}}, ("config.record_calls", "INVALID")),
        ({"config": {"company_id": 1, "office_phone": "12"}}, ("config.office_phone", "INVALID")),
        ({"config": {"company_id": 1, "api_key": "k"}}, ("config.api_key", "INVALID")),  # a secret in config
        ({"secrets": {"api_key": "k", "company_id": 1}}, ("secrets.company_id", "INVALID")),
        ({"secrets": {"api_key": "k", "token": "t"}}, ("secrets.token", "INVALID")),
        ({"config": ["company_id"]}, ("config", "INVALID")),
        ({"plugin": "no-such-plugin"}, ("plugin", "NOT_FOUND")),
        ({"allowedIps": ["10.0.0.0/8", "not-an-ip"]}, ("allowedIps.1", "INVALID")),
    ]
    for fields, expected in cases:
        payload = await install(t.owner, api, **fields)
        assert errors(payload) == [expected], (fields, payload)
        assert payload["installation"] is None and payload["webhookUrl"] is None
    assert (await t.owner.data(api, INSTALLATIONS))["pluginInstallations"] == []

    inst = (await installed(t.owner, api, config={**CONFIG, "office_phone": "067 123 45 67"}))["installation"]
    assert inst["config"]["office_phone"] == "+380671234567"  # normalized to E.164
    for fields, expected in [
        ({"config": {"company_id": "x"}}, ("config.company_id", "INVALID")),
        ({"config": {"company_id": None}}, ("config.company_id", "REQUIRED")),
        ({"secrets": {"api_key": None}}, ("secrets.api_key", "REQUIRED")),
        ({"config": {"nope": 1}}, ("config.nope", "INVALID")),
    ]:
        assert errors(await configure(t.owner, api, inst, **fields)) == [expected], fields
    stale = await configure(t.owner, api, {**inst, "version": 99}, config={"region": "pl"})
    assert errors(stale) == [("version", "CONFLICT")]
    # Two installations of one plugin need different labels.
    assert errors(await install(t.owner, api)) == [("label", "DUPLICATE")]
    second = await installed(t.owner, api, label="Kyiv office")
    assert second["installation"]["label"] == "Kyiv office"


async def test_install_is_idempotent_with_a_key(api, tenants, pbx):
    t = await tenants.create(("owner",))
    first = await installed(t.owner, api, idempotencyKey="install-1")
    again = await installed(t.owner, api, idempotencyKey="install-1")
    assert again["installation"]["id"] == first["installation"]["id"]
    assert again["webhookUrl"] is None  # shown once; rotate to get a new one
    assert len((await t.owner.data(api, INSTALLATIONS))["pluginInstallations"]) == 1


async def test_enable_disable_uninstall_rotate_with_audit_and_events(api, tenants, pbx):
    t = await tenants.create(("owner",))
    payload = await installed(t.owner, api, enabled=False)
    inst = payload["installation"]
    assert payload["webhookNote"] is None  # a disabled installation is not told its URL
    pk = ids.decode(inst["id"])[1]
    v = lambda i: {"i": {"id": i["id"], "version": i["version"]}}  # noqa: E731

    inst = (await t.owner.data(api, ENABLE, v(inst)))["enablePlugin"]["installation"]
    assert inst["enabled"] is True
    inst = (await t.owner.data(api, DISABLE, v(inst)))["disablePlugin"]["installation"]
    assert inst["enabled"] is False
    rotated = (await t.owner.data(api, ROTATE, v(inst)))["rotateWebhookToken"]
    assert rotated["webhookUrl"] != payload["webhookUrl"] and rotated["webhookUrl"].startswith("http://testserver/")
    inst = rotated["installation"]
    stale = (await t.owner.data(api, UNINSTALL, {"i": {"id": inst["id"], "version": 1}}))["uninstallPlugin"]
    assert errors(stale) == [("version", "CONFLICT")]
    gone = (await t.owner.data(api, UNINSTALL, v(inst)))["uninstallPlugin"]
    assert gone["errors"] == []
    assert await PluginInstallation.filter(id=pk).count() == 0

    actions = await AuditEntry.filter(entity_id=pk).order_by("created_at").values_list("action", "actor_kind")
    assert [a for a, _ in actions] == [
        "plugin.install",
        "plugin.enable",
        "plugin.disable",
        "plugin.rotate_webhook_token",
        "plugin.uninstall",
    ]
    events = await OutboxEvent.filter(topic__startswith="plugin.").order_by("created_at").values("topic", "payload")
    mine = [e["topic"] for e in events if e["payload"]["installation_id"] == str(pk)]
    assert mine == [
        "plugin.installed",
        "plugin.enabled",
        "plugin.disabled",
        "plugin.webhook_token_rotated",
        "plugin.uninstalled",
    ]


async def test_test_connection_reports_provider_errors(api, tenants, pbx):
    t = await tenants.create(("owner",))
    inst = (await installed(t.owner, api))["installation"]
    good = (await t.owner.data(api, TEST_CONNECTION, {"i": {"id": inst["id"]}}))["testPluginConnection"]
    assert good == {"ok": True, "message": "Connected to company 4242 (ua).", "errors": []}
    inst = (await configure(t.owner, api, inst, secrets={"api_key": "bad"}))["installation"]
    bad = (await t.owner.data(api, TEST_CONNECTION, {"i": {"id": inst["id"]}}))["testPluginConnection"]
    assert bad["ok"] is False and "rejected the API key" in bad["message"] and bad["errors"] == []


async def test_only_owner_and_admin_manage_installations(api, tenants, pbx):
    t = await tenants.create()
    inst = (await installed(t.owner, api))["installation"]
    admin = await installed(t.admin, api, label="admin's")
    assert admin["installation"]["label"] == "admin's"
    for role in ("manager", "sales", "support", "logistics", "analyst"):
        member = getattr(t, role)
        for query, variables in [
            (INSTALL, {"i": {"plugin": "fake-pbx", "config": CONFIG, "secrets": SECRETS, "label": role}}),
            (CONFIGURE, {"i": {"id": inst["id"], "version": inst["version"], "config": {"region": "pl"}}}),
            (ENABLE, {"i": {"id": inst["id"], "version": inst["version"]}}),
            (DISABLE, {"i": {"id": inst["id"], "version": inst["version"]}}),
            (UNINSTALL, {"i": {"id": inst["id"], "version": inst["version"]}}),
            (ROTATE, {"i": {"id": inst["id"], "version": inst["version"]}}),
            (TEST_CONNECTION, {"i": {"id": inst["id"]}}),
        ]:
            body = await member.execute(api, query, variables)
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", (role, query[:40], body)
    # settings:read: managers and analysts see installations (never secrets), sales and support do not.
    for role in ("manager", "analyst"):
        rows = (await getattr(t, role).data(api, INSTALLATIONS))["pluginInstallations"]
        assert len(rows) == 2
    for role in ("sales", "support", "logistics"):
        for query in (INSTALLATIONS, PLUGINS):
            body = await getattr(t, role).execute(api, query)
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", role
    anonymous = await api.execute(INSTALLATIONS)
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_another_organizations_installation_is_invisible(api, tenants, pbx):
    a = await tenants.create(("owner",))
    b = await tenants.create(("owner",))
    inst = (await installed(a.owner, api))["installation"]
    assert (await b.owner.data(api, INSTALLATIONS))["pluginInstallations"] == []
    one = await b.owner.data(api, "query($id: ID!) { pluginInstallation(id: $id) { id } }", {"id": inst["id"]})
    assert one["pluginInstallation"] is None
    node = "query($id: ID!) { node(id: $id) { id ... on PluginInstallation { plugin { name } } } }"
    assert (await b.owner.data(api, node, {"id": inst["id"]}))["node"] is None
    assert (await a.owner.data(api, node, {"id": inst["id"]}))["node"] == {
        "id": inst["id"],
        "plugin": {"name": "fake-pbx"},
    }
    for query, variables, name in [
        (CONFIGURE, {"i": {"id": inst["id"], "version": 1, "config": {"region": "pl"}}}, "configurePlugin"),
        (ENABLE, {"i": {"id": inst["id"], "version": 1}}, "enablePlugin"),
        (UNINSTALL, {"i": {"id": inst["id"], "version": 1}}, "uninstallPlugin"),
        (ROTATE, {"i": {"id": inst["id"], "version": 1}}, "rotateWebhookToken"),
        (TEST_CONNECTION, {"i": {"id": inst["id"]}}, "testPluginConnection"),
    ]:
        payload = (await b.owner.data(api, query, variables))[name]
        assert errors(payload) == [("id", "NOT_FOUND")], name
    # The same plugin and label are free in the other organization.
    assert (await installed(b.owner, api))["installation"]["id"] != inst["id"]


async def test_domain_events_reach_enabled_installations_only(api, tenants, pbx, database):
    t = await tenants.create(("owner",))
    on = (await installed(t.owner, api))["installation"]
    await installed(t.owner, api, label="off", enabled=False)
    org_id = (await PluginInstallation.get(id=ids.decode(on["id"])[1])).organization_id  # type: ignore[attr-defined]
    event = await OutboxEvent.create(organization_id=org_id, topic="order.created", payload={"number": 1})
    fake_pbx.SEEN_EVENTS.clear()
    outcome = await service.deliver_domain_event(database, event)
    on_pk = str(ids.decode(on["id"])[1])
    assert outcome == {on_pk: None}
    assert fake_pbx.SEEN_EVENTS == [(on_pk, "order.created", fake_pbx.GOOD_KEY)]


async def test_secret_key_rotation_for_stored_installations(api, tenants, pbx, database):
    t = await tenants.create(("owner",))
    inst = (await installed(t.owner, api))["installation"]
    pk = ids.decode(inst["id"])[1]
    new = database.model_copy(update={"secret_key": "next-secret-key", "old_secret_keys": [database.secret_key]})
    assert await service.rotate_all_secrets(new) >= 1
    row = await PluginInstallation.get(id=pk)
    only_new = database.model_copy(update={"secret_key": "next-secret-key"})
    assert service.read_secrets(only_new, row) == SECRETS
    with pytest.raises(crypto.SecretsUnreadable):
        service.read_secrets(database, row)  # the old key alone no longer reads it

    # With the key lost, the connection test says so and new secrets can still be entered.
    tested = (await t.owner.data(api, TEST_CONNECTION, {"i": {"id": inst["id"]}}))["testPluginConnection"]
    assert tested["ok"] is False and "не розшифровуються" in tested["message"]
    result = await configure(t.owner, api, inst, secrets={"api_key": fake_pbx.GOOD_KEY})
    assert result["errors"] == [] and result["installation"]["secretsSet"] == ["api_key"]
    tested = (await t.owner.data(api, TEST_CONNECTION, {"i": {"id": inst["id"]}}))["testPluginConnection"]
    assert tested["ok"] is True


async def test_moving_a_plugin_to_another_address_needs_its_secrets_again(api, tenants, pbx):
    """Otherwise an admin could point api_url at a server of theirs and collect secrets they
    were never shown (the next connection test sends them there)."""
    t = await tenants.create(("owner",))
    inst = (await installed(t.owner, api, config={**CONFIG, "api_url": "https://pbx.example.com"}))["installation"]
    moved = await configure(t.owner, api, inst, config={"api_url": "https://collector.example.net"})
    assert errors(moved) == [("secrets", "REQUIRED")]
    assert "api_key, api_secret" in moved["errors"][0]["message"]
    again = await configure(t.owner, api, inst, config={"api_url": "https://pbx2.example.com"}, secrets=SECRETS)
    assert again["errors"] == []
    # Other settings change without the secrets, as before.
    assert (await configure(t.owner, api, again["installation"], config={"region": "pl"}))["errors"] == []


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/iam/role?x=",  # the plugin's path would become a query
        "https://user:pass@pbx.example.com",
        "https://pbx.example.com/#frag",
        "ftp://pbx.example.com",
    ],
)
async def test_url_settings_must_be_plain_base_urls(api, tenants, pbx, url):
    t = await tenants.create(("owner",))
    payload = await install(t.owner, api, config={**CONFIG, "api_url": url})
    assert errors(payload) == [("config.api_url", "INVALID")]


async def test_a_send_that_times_out_is_not_retried(pbx):
    """A slow provider may have sent the SMS: the timeout says so instead of inviting a retry."""
    import asyncio

    from server.plugins.manager import PluginManager
    from server.plugins.types import PluginError

    class Slow:
        async def crm_messaging_send(self, message):
            await asyncio.sleep(5)

    manager = PluginManager(timeout=0.05)
    slow = Slow()
    # Any hook of a plugin that hangs; only the manager's timeout handling is under test.
    manager._caller = lambda name, hook: lambda **kw: slow.crm_messaging_send(None)
    with pytest.raises(PluginError) as sent:
        await manager.call("slow", "crm_messaging_send", message=None)
    assert (sent.value.code, sent.value.retryable) == ("OUTCOME_UNKNOWN", False)
    with pytest.raises(PluginError) as tracked:
        await manager.call("slow", "crm_delivery_track")
    assert tracked.value.retryable
