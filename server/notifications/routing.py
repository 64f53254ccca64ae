"""Which messaging installation sends a notification on a channel.

A messaging plugin declares the channels it sends over (``PluginInfo.channels``). An
organization may have several installations serving one channel (TurboSMS and Twilio both send
SMS); it chooses which one sends a channel for all its rules (a route with trigger "") and may
choose another for one rule (a route with that rule's trigger). The choice, in order:

1. the rule's route for the channel, if that installation is enabled;
2. the organization's route for the channel, if that installation is enabled;
3. the first enabled installation (oldest first) whose plugin serves the channel.

A disabled chosen installation is passed over rather than stopping the messages: the admin
disabled a provider, not the customers' notices (docs/notifications.md)."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from server.audit import service as audit
from server.auth.scope import Scope
from server.core.errors import ErrorCode, Problems, UserInputError
from server.core.text import required_text
from server.i18n import _
from server.notifications.models import ChannelRoute, NotificationRule
from server.plugins.manager import get_manager
from server.plugins.models import PluginInstallation
from server.plugins.types import CHANNELS, MESSAGING

Routes = dict[tuple[UUID, str, str], UUID]  # (organization, trigger, channel) -> installation


def channels_of(plugin: str) -> tuple[str, ...]:
    """The channels an installed plugin sends over (none when it is not a messaging plugin or
    is not loaded in this process)."""
    loaded = get_manager().get(plugin)
    if loaded is None or MESSAGING not in loaded.info.capabilities:
        return ()
    return loaded.info.channels


def known_channels() -> tuple[str, ...]:
    """The CRM's own channel names, then those only plugins declare."""
    declared = [c for p in get_manager().list_plugins() if MESSAGING in p.capabilities for c in p.channels]
    return tuple(dict.fromkeys([*CHANNELS, *declared]))


async def routes_of(organization_ids: Iterable[UUID]) -> Routes:
    rows = await ChannelRoute.filter(organization_id__in=list(set(organization_ids))).values(
        "organization_id", "trigger", "channel", "installation_id"
    )
    return {(r["organization_id"], r["trigger"], r["channel"]): r["installation_id"] for r in rows}


def choose(
    installations: Iterable[PluginInstallation], routes: Routes, organization_id: UUID, trigger: str, channel: str
) -> PluginInstallation | None:
    """``installations``: enabled ones, oldest first (of any organizations: others are skipped)."""
    serving = [
        i
        for i in installations
        if i.organization_id == organization_id and channel in channels_of(i.plugin)  # type: ignore[attr-defined]
    ]
    for wanted in (routes.get((organization_id, trigger, channel)), routes.get((organization_id, "", channel))):
        chosen = next((i for i in serving if i.id == wanted), None) if wanted else None
        if chosen is not None:
            return chosen
    return serving[0] if serving else None


async def installation_for(organization_id: UUID, trigger: str, channel: str) -> PluginInstallation | None:
    """``choose`` for one notification, reading what it needs."""
    installations = await PluginInstallation.filter(organization_id=organization_id, enabled=True).order_by(
        "created_at"
    )
    return choose(installations, await routes_of([organization_id]), organization_id, trigger, channel)


# -- administration ----------------------------------------------------------------------------


async def list_routes(scope: Scope) -> list[ChannelRoute]:
    scope.require("settings:read")
    return await scope.queryset(ChannelRoute).order_by("trigger", "channel")


async def set_route(
    scope: Scope, channel: str, trigger: str | None, installation_id: UUID | None
) -> ChannelRoute | None:
    """Choose the installation that sends ``channel`` (for one rule's ``trigger``, or for the
    whole organization); no installation removes the choice. Returns the route, or None."""
    from server.notifications.jobs import CHAT_CHANNELS  # the jobs import this module
    from server.notifications.service import ensure_defaults

    scope.require("settings:write")
    problems = Problems()
    channel = (channel or "").strip().lower()
    routable = [c for c in known_channels() if c not in CHAT_CHANNELS]
    # Removing a choice needs no check of the channel: its plugin may be gone.
    if installation_id is not None and channel not in routable:
        problems.add(
            ErrorCode.INVALID,
            # Chat channels go through the bot the customer wrote to: there is nothing to choose.
            _("Channel must be one of: %(channels)s.", channels=", ".join(routable)),
            "channel",
        )
    with problems:
        trigger = required_text(trigger, "trigger", 32) if trigger is not None else ""
        if trigger:
            await ensure_defaults(scope.organization_id)
            if not await scope.queryset(NotificationRule).filter(trigger=trigger).exists():
                raise UserInputError(
                    ErrorCode.NOT_FOUND, _("There is no notification rule '%(trigger)s'.", trigger=trigger), "trigger"
                )
    installation = None
    if installation_id is not None:
        with problems:
            installation = await scope.get(PluginInstallation, installation_id, field="installationId")
        if installation is not None and not problems.has("channel") and channel not in channels_of(installation.plugin):
            problems.add(
                ErrorCode.INVALID,
                _("The %(plugin)s plugin does not send %(channel)s.", plugin=installation.plugin, channel=channel),
                "installationId",
            )
    problems.raise_if_any()
    async with in_transaction():
        existing = await scope.queryset(ChannelRoute, "write").get_or_none(trigger=trigger, channel=channel)
        before = str(existing.installation_id) if existing else None  # type: ignore[attr-defined]
        after = str(installation.id) if installation else None
        if before == after:
            return existing
        if installation is None:
            await ChannelRoute.filter(id=existing.id).delete()  # type: ignore[union-attr]
            route = existing
        elif existing is None:
            try:
                route = await ChannelRoute.create(
                    organization_id=scope.organization_id, channel=channel, trigger=trigger, installation=installation
                )
            except IntegrityError:  # another admin chose at the same moment
                raise UserInputError(
                    ErrorCode.CONFLICT, _("The choice was changed meanwhile: look again and retry."), "channel"
                ) from None
        else:
            await ChannelRoute.filter(id=existing.id).update(installation_id=installation.id)
            existing.installation_id = installation.id  # type: ignore[attr-defined]
            route = existing
        await audit.record(scope, "channel_route.set", route, {"installation_id": [before, after]})
    return route if installation is not None else None
