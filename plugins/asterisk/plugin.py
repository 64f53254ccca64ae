"""The Asterisk plugin: calls from an Asterisk PBX (FreePBX, Issabel...) over AMI.

Asterisk does not call the CRM: the CRM keeps a connection to its manager interface (AMI,
plugins/asterisk/ami.py) for each installation, from ``crm worker``
(server/telephony/listeners.py calls ``crm_telephony_listen`` and reconnects with backoff).
The AMI events of a call (all its channels share a ``Linkedid``) become the same call events
as Binotel's webhooks:

* ``Newchannel`` of the call's first channel (``Uniqueid == Linkedid``): the call starts
  (caller id, dialled number, inbound or outbound);
* ``Newchannel`` / ``Newstate`` with ``ChannelState: 5`` (Ringing) on an employee's channel:
  ``ringing`` for that extension (the screen pop), once per extension;
* ``DialEnd`` with ``DialStatus: ANSWER`` or ``BridgeEnter`` of an employee's channel:
  ``answered``;
* ``Hangup`` of the first channel: ``ended`` with the talk and wait time and the outcome (the
  last ``DialStatus``: NOANSWER, BUSY, CANCEL...), which writes the timeline entry (and a
  call-back task when nobody answered).

Each moment has a dedupe key (``ringing:<Linkedid>:<ext>``, ``answered:<Linkedid>``,
``ended:<Linkedid>``), so a second worker listening to the same PBX records nothing twice.

Click-to-call sends ``Originate`` (``Async: true``) on a short connection of its own: the
employee's channel (``PJSIP/<extension>`` by default) rings and, when picked up, dials the
customer's number in the configured context.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from plugins.asterisk.ami import AmiConnection, AmiError
from plugins.binotel.plugin import to_e164
from server.i18n import _
from server.plugins import egress
from server.plugins.hookspecs import API_VERSION, hookimpl
from server.plugins.types import CallEvent, ConfigField, ConnectionResult, PluginError, PluginInfo

NAME = "asterisk"
CONNECT_TIMEOUT = 10.0
ACTION_TIMEOUT = 15.0  # below the 30 s the CRM gives a hook
RINGING = "5"
DIAL_OUTCOMES = {
    "ANSWER": "answered",
    "NOANSWER": "no_answer",
    "BUSY": "busy",
    "CANCEL": "cancelled",
    "CHANUNAVAIL": "failed",
    "CONGESTION": "failed",
    "DONTCALL": "cancelled",
    "TORTURE": "cancelled",
    "INVALIDARGS": "failed",
}


@hookimpl
def crm_plugin_info():
    return PluginInfo(
        name=NAME,
        title="Asterisk",
        version="1.0.0",
        capabilities=("telephony",),
        api_version=API_VERSION,
        description="Calls from your Asterisk PBX (AMI) on the customer's timeline, screen pops, click-to-call.",
        homepage="https://www.asterisk.org",
    )


@hookimpl
def crm_config_schema():
    return [
        ConfigField("host", required=True, label="AMI host", help="The PBX's address as the CRM reaches it."),
        ConfigField("port", type="integer", default=5038, label="AMI port", help="5038, or 5039 with TLS."),
        ConfigField("tls", type="boolean", default=False, label="TLS", help="Connect with TLS (AMI over TLS)."),
        ConfigField("username", required=True, label="AMI user", help="A user in manager.conf with read: call."),
        ConfigField("secret", secret=True, required=True, label="AMI secret"),
        ConfigField(
            "channel",
            default="PJSIP/{extension}",
            label="Employee channel",
            help="The channel that rings an employee for click-to-call; {extension} is replaced.",
        ),
        ConfigField("context", default="from-internal", label="Dial context", help="Where click-to-call dials out."),
        ConfigField(
            "dial_format",
            type="choice",
            choices=("national", "international", "e164"),
            default="national",
            label="Dial customers as",
            help="national: 0671234567; international: 380671234567; e164: +380671234567.",
        ),
        ConfigField(
            "extension_digits",
            type="integer",
            default=5,
            label="Extensions have at most (digits)",
            help="Numbers this short are employees' extensions, longer ones customers.",
        ),
    ]


# -- connecting ----------------------------------------------------------------------------


async def _address(host: str, port: int) -> str:
    """The address to connect to, by the egress rule plugins follow (server/plugins/egress.py):
    public addresses only, unless ALLOW_LOCAL_PROVIDERS allows the local simulator. The
    address checked is the one connected to, so a name cannot resolve differently in between."""
    if egress.local_allowed():
        return host
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise PluginError(
            _("Cannot find the PBX address %(host)s: %(exc)s.", host=host, exc=exc), retryable=True
        ) from None
    for info in infos:
        if not egress.is_public(ipaddress.ip_address(info[4][0])):
            raise PluginError(
                _("The PBX address %(host)s is not a public address; the CRM reaches only public ones.", host=host),
                code="ADDRESS_NOT_ALLOWED",
            )
    return str(infos[0][4][0])


async def connect(config: dict, secrets: dict) -> AmiConnection:
    host, port = str(config.get("host") or "").strip(), int(config.get("port") or 5038)
    username, secret = str(config.get("username") or ""), str(secrets.get("secret") or "")
    if not host or not username or not secret:
        raise PluginError(_("Enter the AMI host, user and secret in the plugin settings."), code="AUTH")
    address = await _address(host, port)
    try:
        ami = await AmiConnection.open(
            address, port, tls=bool(config.get("tls")), server_name=host, limit=CONNECT_TIMEOUT
        )
    except (OSError, TimeoutError) as exc:
        raise PluginError(
            _("Cannot reach the Asterisk manager at %(host)s:%(port)s (%(exc)s).", host=host, port=port, exc=exc),
            retryable=True,
        ) from None
    except AmiError as exc:
        raise PluginError(str(exc)) from None
    try:
        async with asyncio.timeout(ACTION_TIMEOUT):
            await ami.login(username, secret)
    except AmiError as exc:
        await ami.close()
        raise PluginError(_("Asterisk refused the AMI login: %(exc)s.", exc=exc), code="AUTH") from None
    except (ConnectionError, OSError, TimeoutError) as exc:
        await ami.close()
        raise PluginError(
            _("The Asterisk manager hung up during the login (%(exc)s).", exc=exc), retryable=True
        ) from None
    return ami


@hookimpl
async def crm_test_connection(config, secrets):
    ami = await connect(config, secrets)
    try:
        async with asyncio.timeout(ACTION_TIMEOUT):
            await ami.action("Ping")
    finally:
        await ami.close()
    return ConnectionResult(ok=True, message=_("Connected to %(server)s.", server=ami.banner))


# -- events -> calls -----------------------------------------------------------------------


def _extension(message: dict, config: dict) -> str:
    """An employee's extension from the channel (PJSIP/901-00000002) or its caller id."""
    limit = int(config.get("extension_digits") or 5)
    number = message.get("CallerIDNum", "")
    if number.isdigit() and len(number) <= limit:
        return number
    channel = message.get("Channel", "")
    name = channel.split("/", 1)[-1].rsplit("-", 1)[0]
    return name if name.isdigit() and len(name) <= limit else ""


def _moment(message: dict) -> datetime:
    try:
        return datetime.fromtimestamp(float(message["Timestamp"]), UTC)
    except (KeyError, ValueError):
        return datetime.now(UTC)


@dataclass
class Call:
    linkedid: str
    direction: str
    customer: str
    ours: str
    started_at: datetime
    rung: list[str] = field(default_factory=list)
    answered_by: str = ""
    answered_at: datetime | None = None
    dial_status: str = ""

    def event(self, state: str, employee: str = "", *, ended_at: datetime | None = None) -> CallEvent:
        outbound = self.direction == "outbound"
        duration = wait = None
        disposition = ""
        if state == "ended":
            end = ended_at or datetime.now(UTC)
            if self.answered_at is not None:
                duration = int((end - self.answered_at).total_seconds())
                wait = int((self.answered_at - self.started_at).total_seconds())
                disposition = "answered"
            else:
                duration, wait = 0, int((end - self.started_at).total_seconds())
                # The caller hung up before anyone was dialled, or while phones rang: cancelled.
                disposition = DIAL_OUTCOMES.get(self.dial_status, "cancelled")
        # Who took it, else the first desk that rang (a missed call's task goes there); an
        # outgoing call is the caller's own.
        employee = (
            employee or self.answered_by or (self.rung[0] if self.rung else "") or (self.ours if outbound else "")
        )
        return CallEvent(
            call_id=self.linkedid,
            state=state,
            direction=self.direction,
            caller=self.ours if outbound else self.customer,
            callee=self.customer if outbound else self.ours,
            employee=employee,
            extension=employee,
            started_at=self.started_at,
            duration_seconds=duration,
            wait_seconds=wait,
            disposition=disposition,
        )


class CallTracker:
    """Follows the calls of one AMI connection; ``feed`` returns (events, dedupe key) pairs."""

    def __init__(self, config: dict):
        self.config = config
        self.calls: dict[str, Call] = {}

    def _start(self, message: dict) -> Call:
        linkedid = message.get("Linkedid") or message.get("Uniqueid", "")
        caller = message.get("CallerIDNum", "")
        dialled = message.get("Exten", "")
        internal = bool(_extension(message, self.config))
        external_dialled = dialled.lstrip("+").isdigit() and not _extension({"CallerIDNum": dialled}, self.config)
        if internal and external_dialled:  # an employee dialled out
            call = Call(linkedid, "outbound", to_e164(dialled), caller, _moment(message))
        else:
            call = Call(linkedid, "inbound", to_e164(caller), to_e164(dialled), _moment(message))
        self.calls[linkedid] = call
        return call

    def feed(self, message: dict) -> list[tuple[list[CallEvent], str]]:
        name = message.get("Event", "")
        uniqueid = message.get("Uniqueid", "")
        linkedid = message.get("Linkedid") or uniqueid
        first = uniqueid == linkedid
        call = self.calls.get(linkedid)
        out: list[tuple[list[CallEvent], str]] = []
        if name == "Newchannel" and first and call is None:
            call = self._start(message)
        if call is None:
            return out  # a call that started before we connected, or not a call at all
        if name in ("Newchannel", "Newstate") and not first and message.get("ChannelState") == RINGING:
            ext = _extension(message, self.config)
            if ext and ext not in call.rung:
                call.rung.append(ext)
                out.append(([call.event("ringing", ext)], f"ringing:{linkedid}:{ext}"))
        elif name == "DialEnd":
            status = message.get("DialStatus", "").upper()
            call.dial_status = status
            if status == "ANSWER":
                dest = {"CallerIDNum": message.get("DestCallerIDNum", ""), "Channel": message.get("DestChannel", "")}
                out += self._answered(call, _extension(dest, self.config), message)
        elif name == "BridgeEnter" and not first:
            out += self._answered(call, _extension(message, self.config), message)
        elif name == "Hangup" and first:
            del self.calls[linkedid]
            out.append(([call.event("ended", ended_at=_moment(message))], f"ended:{linkedid}"))
        return out

    def _answered(self, call: Call, ext: str, message: dict) -> list[tuple[list[CallEvent], str]]:
        if call.answered_at is not None:
            return []
        call.answered_at, call.answered_by = _moment(message), ext or call.answered_by
        return [([call.event("answered", call.answered_by)], f"answered:{call.linkedid}")]


@hookimpl
async def crm_telephony_listen(config, secrets, emit):
    ami = await connect(config, secrets)
    tracker = CallTracker(config)
    try:
        while True:
            try:
                message = await ami.next_event()
            except (ConnectionError, OSError) as exc:
                raise PluginError(
                    _("Lost the Asterisk manager connection (%(exc)s).", exc=exc), retryable=True
                ) from None
            for events, key in tracker.feed(message):
                await emit(events, key)
    finally:
        await ami.close()


# -- click-to-call -------------------------------------------------------------------------


def dial_number(phone: str, config: dict) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    style = config.get("dial_format") or "national"
    if style == "e164":
        return "+" + digits
    if style == "national" and digits.startswith("380") and len(digits) == 12:
        return "0" + digits[3:]
    return digits


@hookimpl
async def crm_telephony_click_to_call(config, secrets, employee: str, phone: str):
    extension = (employee or "").strip()
    if not extension.isdigit():
        raise PluginError(_("Give the employee's Asterisk extension (digits, e.g. 901)."), code="INVALID")
    channel = str(config.get("channel") or "PJSIP/{extension}").replace("{extension}", extension)
    number = dial_number(phone, config)
    action_id = f"crm-originate-{uuid.uuid4().hex[:16]}"
    ami = await connect(config, secrets)
    started = time.monotonic()
    try:
        async with asyncio.timeout(ACTION_TIMEOUT):
            await ami.action(
                "Originate",
                ActionID=action_id,
                Channel=channel,
                Context=str(config.get("context") or "from-internal"),
                Exten=number,
                Priority="1",
                CallerID=f"CRM <{number}>",
                Timeout="30000",
                Async="true",  # answer now; the call's progress comes as events
            )
    except AmiError as exc:
        raise PluginError(_("Asterisk refused the call: %(exc)s.", exc=exc), code="ORIGINATE") from None
    except (ConnectionError, OSError, TimeoutError):
        # The action may have been taken: never repeated automatically.
        raise PluginError(
            _(
                "The Asterisk manager did not confirm the call within %(seconds)s s; it may ring anyway.",
                seconds=round(time.monotonic() - started),
            ),
            code="OUTCOME_UNKNOWN",
        ) from None
    finally:
        await ami.close()
    return action_id
