"""The demo's integrations: the built-in plugins installed for the demo organization and
pointed at the provider simulators, which ``crm serve --demo`` runs on loopback ports.

So a newcomer can create a Nova Poshta waybill, import Rozetka or Prom.ua orders or send an SMS
from the demo without any provider account. The simulators get free ports on every start, so each start
points the installations at the current ones (their secrets are the simulators' test
credentials, nothing real)."""

from __future__ import annotations

from dataclasses import dataclass

from plugins.simulators import SIMULATORS, SimulatorServer
from server.auth.models import User
from server.auth.principal import for_user
from server.auth.scope import Scope
from server.config import Settings
from server.plugins import service
from server.plugins.manager import get_manager
from server.plugins.models import PluginInstallation
from server.plugins.simulator import start_all

DEMO_LABEL = "demo"


@dataclass
class DemoIntegration:
    plugin: str
    url: str
    installed: bool  # False when the plugin is not on this server (not installed as a package)


def _settings_for(name: str, sim: SimulatorServer) -> tuple[dict, dict]:
    """(config, secrets) of the plugin ``name`` against its simulator's seeded test account."""
    creds = sim.credentials()
    if name == "novaposhta":
        refs = ("sender_ref", "contact_sender_ref", "city_sender_ref", "sender_address_ref")
        config = {key: creds[key] for key in refs}
        config |= {"senders_phone": "+" + creds["senders_phone"], "api_url": f"{sim.url}/v2.0/json/"}
        return config, {"api_key": creds["api_key"]}
    if name == "rozetka":
        return {"username": creds["username"], "api_url": sim.url}, {"password": creds["password"]}
    if name == "prom":
        return {"api_url": sim.url}, {"token": creds["token"]}
    if name == "turbosms":
        config = {"sender": creds["sms_senders"][0], "viber_sender": creds["viber_senders"][0], "api_url": sim.url}
        return config, {"token": creds["token"]}
    if name == "twilio":
        config = {"account_sid": creds["account_sid"], "from_number": creds["from_number"], "api_url": sim.url}
        return config, {"auth_token": creds["auth_token"]}
    if name == "binotel":
        return {"company_id": creds["company_id"], "api_url": sim.url}, {
            "key": creds["key"],
            "secret": creds["secret"],
        }
    if name == "ringostat":
        return {"project_id": creds["project_id"], "api_url": sim.url}, {"auth_key": creds["auth_key"]}
    if name == "asterisk":  # AMI over TCP: the worker keeps a connection to the simulator
        return {"host": creds["host"], "port": creds["port"], "username": creds["username"]}, {
            "secret": creds["secret"]
        }
    if name == "liqpay":
        return {"public_key": creds["public_key"], "api_url": sim.url}, {"private_key": creds["private_key"]}
    if name == "monobank":
        return {"api_url": sim.url}, {"token": creds["token"]}
    if name == "checkbox":
        return {"api_url": f"{sim.url}/api/v1"}, {"license_key": creds["license_key"], "pin_code": creds["pin_code"]}
    raise KeyError(name)


# The chat bots (telegram, viber) are left out: their providers call webhooks only at a public
# https:// address, which a demo on 127.0.0.1 does not have.
DEMO_PLUGINS = (
    *("novaposhta", "rozetka", "turbosms", "twilio", "binotel", "ringostat", "asterisk"),
    *("liqpay", "monobank", "prom", "checkbox"),
)


def start_simulators() -> dict[str, SimulatorServer]:
    """The demo's provider simulators on free loopback ports, in background threads."""
    started = start_all(SIMULATORS[name]() for name in DEMO_PLUGINS)
    return dict(zip(DEMO_PLUGINS, started, strict=True))


async def connect_demo_integrations(
    settings: Settings, simulators: dict[str, SimulatorServer], owner_email: str, org_slug: str
) -> list[DemoIntegration]:
    """Install (first start) or re-point (later starts) each built-in plugin at its simulator."""
    owner = await User.get(email=owner_email)
    scope = Scope(await for_user(owner, org_slug))
    manager = get_manager()
    done = []
    for name, sim in simulators.items():
        if manager.get(name) is None:
            done.append(DemoIntegration(name, sim.url, installed=False))
            continue
        config, secrets = _settings_for(name, sim)
        existing = await PluginInstallation.get_or_none(
            organization_id=scope.organization_id, plugin=name, label=DEMO_LABEL
        )
        if existing is None:
            await service.install_plugin(
                scope, settings, name, label=DEMO_LABEL, config=config, secrets=secrets, manager=manager
            )
        else:
            await service.configure_plugin(
                scope, settings, existing.id, existing.version, config=config, secrets=secrets, manager=manager
            )
        done.append(DemoIntegration(name, sim.url, installed=True))
    return done
