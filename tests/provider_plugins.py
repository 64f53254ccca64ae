"""Shared steps of the built-in provider plugins' contract tests: install a plugin through
GraphQL as an organization's owner, call its hooks the way the CRM does
(``server.plugins.service.call``), and reach the app's real ``/hooks/...`` route from a
simulator."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from server.core.models import OutboxEvent
from server.graphql import ids
from server.plugins import service
from server.plugins.models import PluginInstallation
from server.plugins.testing import INSTALL, TEST_CONNECTION


async def install(member, api, plugin: str, config: dict, secrets: dict, **fields) -> dict:
    variables = {"i": {"plugin": plugin, "config": config, "secrets": secrets, **fields}}
    payload = (await member.data(api, INSTALL, variables))["installPlugin"]
    assert payload["errors"] == [], payload
    return payload


async def row(payload: dict) -> PluginInstallation:
    return await PluginInstallation.get(id=ids.decode(payload["installation"]["id"])[1])


async def call(settings, payload: dict, hook: str, **kwargs):
    """Call the installation's hook exactly as the CRM's jobs do."""
    return await service.call(settings, await row(payload), hook, **kwargs)


async def check_connection(member, api, payload: dict) -> dict:
    variables = {"i": {"id": payload["installation"]["id"]}}
    return (await member.data(api, TEST_CONNECTION, variables))["testPluginConnection"]


def app_transport(http: httpx.AsyncClient) -> httpx.AsyncBaseTransport:
    """The transport of the tests' HTTP client: the real app, in this event loop."""
    return http._transport


def hook_path(payload: dict) -> str:
    return urlsplit(payload["webhookUrl"]).path


async def events(organization_id, topic: str) -> list[dict]:
    rows = await OutboxEvent.filter(organization_id=organization_id, topic=topic).order_by("created_at", "id")
    return [r.payload for r in rows]
