"""GraphQL for the "who is calling" pop-up and click-to-call."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from server.accounts.schema import AccountType, ContactType
from server.activities.schema import ActivityType
from server.core.errors import UserInputError
from server.graphql import ids
from server.graphql.errors import UserError, run_mutation
from server.telephony import service


@strawberry.type(description="One account with the caller's number, with what a call pop-up shows.")
class CallerMatch:
    account: AccountType = strawberry.field(description="The account whose phones include the number.")
    primary_contact: ContactType | None = strawberry.field(
        description="The account's contact with this number, else its first contact; null without contacts."
    )
    open_orders: int | None = strawberry.field(
        description="Orders not completed or cancelled; null when your role does not work with orders."
    )
    open_deals: int | None = strawberry.field(
        description="Deals not won or lost yet; null when your role does not work with deals."
    )
    open_tickets: int | None = strawberry.field(
        description="Tickets new, open or pending; null when your role does not work with tickets."
    )
    last_activity: ActivityType | None = strawberry.field(
        description="The latest timeline item (open tasks left out); null without any or without access."
    )


@strawberry.type(description="Who is calling: the accounts with a phone number, for a screen pop.")
class CallerLookup:
    phone: str = strawberry.field(description="The number, normalized to E.164.")
    matches: list[CallerMatch] = strawberry.field(
        description="Accounts you may see with this number, oldest first (at most 5); empty for an unknown "
        "number (a call from it will create a lead account when it ends)."
    )


async def lookup(scope, phone: str) -> CallerLookup:
    """The pop-up's data for ``phone``: the query's answer, and a ringing call's (server/realtime)."""
    found = await service.caller_lookup(scope, phone)
    return CallerLookup(
        phone=found.phone,
        matches=[
            CallerMatch(
                account=m.account,  # type: ignore[arg-type]
                primary_contact=m.primary_contact,  # type: ignore[arg-type]
                open_orders=m.open_orders,
                open_deals=m.open_deals,
                open_tickets=m.open_tickets,
                last_activity=m.last_activity,  # type: ignore[arg-type]
            )
            for m in found.matches
        ],
    )


@strawberry.type(name="LiveCall", description="A phone call to or from a customer is ringing or was answered.")
class LiveCall:
    call_id: str = strawberry.field(description="The PBX's id of the call: the same for every state of it.")
    state: str = strawberry.field(description="`ringing` or `answered`.")
    direction: str = strawberry.field(description="`inbound` or `outbound`.")
    employee: str = strawberry.field(description="The PBX extension or employee taking the call, if known.")
    caller: CallerLookup = strawberry.field(
        description="The customer's number and the accounts with it that you may see: the screen pop."
    )


async def live_call(scope, payload: dict) -> LiveCall:
    """A call event's payload as the screen pop shows it (subscription and polling alike)."""
    outbound = payload.get("direction") == "outbound"
    phone = str(payload.get("callee") if outbound else payload.get("caller") or "")
    try:
        caller = await lookup(scope, phone)
    except UserInputError:  # a number that is not a phone number (a hidden caller id)
        caller = CallerLookup(phone=phone, matches=[])
    return LiveCall(
        call_id=str(payload.get("call_id") or ""),
        state=str(payload.get("state") or ""),
        direction=str(payload.get("direction") or ""),
        employee=str(payload.get("employee") or ""),
        caller=caller,
    )


@strawberry.type
class TelephonyQueries:
    @strawberry.field(
        description="Calls ringing or answered right now, with the caller's accounts you may see: the "
        "screen pop for clients that cannot keep the `incomingCall` subscription open (poll every few "
        "seconds). A ring group's call is listed once per desk until someone answers. At most the newest 50 "
        "entries. Needs `accounts:read`."
    )
    async def live_calls(
        self,
        info: Info,
        employee: Annotated[
            str | None, strawberry.argument(description="Only calls for this PBX extension or employee.")
        ] = None,
    ) -> list[LiveCall]:
        scope = info.context.scope
        return [await live_call(scope, p) for p in await service.live_calls(scope, employee)]

    @strawberry.field(
        description="Who is calling: the accounts with this phone number (any format, e.g. from a "
        "`call.ringing` event), their primary contact, open orders, deals and tickets and the last activity. "
        "Needs `accounts:read`; only accounts your role may see."
    )
    async def caller_lookup(
        self, info: Info, phone: Annotated[str, strawberry.argument(description="The caller's number, in any format.")]
    ) -> CallerLookup:
        return await lookup(info.context.scope, phone)


@strawberry.input(description="Ring an employee's phone, then dial a customer.")
class ClickToCallInput:
    installation_id: strawberry.ID = strawberry.field(
        description="The telephony plugin installation (e.g. Binotel) that places the call."
    )
    phone: str = strawberry.field(description="The number to dial, any format (stored and sent as E.164).")
    extension: str | None = strawberry.field(
        default=None,
        description="Leave out: the caller's own extension (me.phoneExtension) rings first. Owners and admins "
        "may give another member's extension; anyone else may only give their own (FORBIDDEN otherwise).",
    )


@strawberry.type
class ClickToCallPayload:
    call_id: str | None = strawberry.field(
        default=None,
        description="The provider's call id; the call's events and its timeline entry arrive through the webhook.",
    )
    errors: list[UserError] = strawberry.field(
        description="Why the call was not placed: invalid number, unknown installation, the PBX refused "
        "(PROVIDER_ERROR with the provider's reason)."
    )


@strawberry.type
class TelephonyMutations:
    @strawberry.mutation(
        description="Click-to-call: the PBX rings the employee's extension, then dials the number. "
        "Needs `activities:write`. Not idempotent: each call places a new phone call."
    )
    async def click_to_call(self, info: Info, input: ClickToCallInput) -> ClickToCallPayload:
        ctx = info.context

        async def act():
            pk = ids.decode(input.installation_id, "PluginInstallation", "installationId")[1]
            call_id = await service.click_to_call(
                ctx.scope, ctx.settings, pk, input.phone, input.extension, throttle=ctx.call_throttle
            )
            return {"call_id": call_id}

        return await run_mutation(ClickToCallPayload, act)
