"""Who an audit entry's actor is, in words: a member, a partner's OAuth app, an API key, a
plugin or the CRM's own background work.

Entries store only ``actor_kind`` and ``actor_id`` (``user`` + a user id; ``app`` +
``oauth:<client id>``, ``apikey:<key id>``, ``plugin:<name>``, ``delivery:<plugin>`` or a
component such as ``campaigns``; ``system``) and, for a person acting through an app,
``actor_via``. Names are looked up when the trail is read, in batches, so a renamed app shows
its current name; an app or key is never deleted (only revoked), so it can always be named.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from uuid import UUID

from server.apikeys.models import ApiKey
from server.oauth.models import OAuthClient


class ActorKind(enum.Enum):
    USER = "user"
    OAUTH_APP = "oauth_app"
    API_KEY = "api_key"
    PLUGIN = "plugin"
    SYSTEM = "system"


@dataclass(frozen=True)
class ActorRef:
    """What an actor string says, before any lookup."""

    kind: ActorKind
    key: str  # the user id, the client id, the key id, the plugin name or the component


def parse(actor_kind: str, actor_id: str | None) -> ActorRef:
    value = actor_id or ""
    if actor_kind == "user":
        return ActorRef(ActorKind.USER, value)
    if actor_kind == "app":
        prefix, sep, rest = value.partition(":")
        if sep and prefix == "oauth":
            return ActorRef(ActorKind.OAUTH_APP, rest)
        if sep and prefix == "apikey":
            return ActorRef(ActorKind.API_KEY, rest)
        if sep and prefix in ("plugin", "delivery"):  # a plugin's webhook, sync or tracking run
            return ActorRef(ActorKind.PLUGIN, rest)
    return ActorRef(ActorKind.SYSTEM, value or actor_kind)


@dataclass
class Named:
    """An app or key as the audit trail shows it."""

    name: str
    detail: str  # the client id, or the key's prefix

    @property
    def display(self) -> str:
        return f"{self.name} ({self.detail})"


async def oauth_apps(client_ids: list[str]) -> list[Named | None]:
    # Not limited to the reader's organization: the trail names whatever app acted in it, and
    # an app's name and client id are public to those it acts for (the consent page shows them).
    rows = await OAuthClient.filter(client_id__in=list(set(client_ids))).values_list("client_id", "name")
    found = {client_id: Named(name, client_id) for client_id, name in rows}
    return [found.get(i) for i in client_ids]


def api_keys_of(organization_id: UUID):
    async def load(key_ids: list[str]) -> list[Named | None]:
        valid = []
        for value in set(key_ids):
            try:
                valid.append(UUID(value))
            except ValueError:
                continue
        # The reader's organization only: its entries name only its own keys.
        rows = await ApiKey.filter(organization_id=organization_id, id__in=valid).values_list("id", "name", "prefix")
        found = {str(pk): Named(name, prefix) for pk, name, prefix in rows}
        return [found.get(i) for i in key_ids]

    return load


def plugin_title(name: str) -> str:
    from server.plugins.manager import get_manager

    loaded = get_manager().get(name)
    return loaded.info.title if loaded is not None else name
