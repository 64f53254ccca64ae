"""The e-mail plugin: notifications over SMTP submission, and bounces (DSN) back in.

Protocol (RFC 6409 submission, RFC 3207 STARTTLS, RFC 8314 implicit TLS, RFC 3464 DSN):

- Port 587 with ``security="starttls"`` (EHLO, STARTTLS, EHLO, AUTH), or port 465 with
  ``security="tls"`` (TLS from the first byte). ``none`` is for a relay on the same host only.
- One message per send: ``MAIL FROM`` (a per-message VERP return path when ``bounce_address``
  is set), ``RCPT TO``, ``DATA``. The Message-ID we put in the header is the provider message id.

What an SMTP answer means for the CRM (docs/messaging.md, "What the plugins promise"):

- no connection, a 4xx anywhere before the message was accepted, or the connection lost before
  ``DATA``: nothing was sent, ``PluginError(retryable=True)``;
- a 5xx to ``RCPT TO`` or to the message data: this recipient is refused (a hard bounce),
  ``SentMessage(status="failed")`` with the SMTP code;
- the connection lost or timed out during ``DATA``: the server may have queued it,
  ``PluginError(code="OUTCOME_UNKNOWN")`` and never a blind resend;
- a refused login or sender, a server without STARTTLS: a settings error for the admin.

Bounces: a mail server pipes each DSN that reaches the bounce mailbox to
``/hooks/email/<token>/bounce`` as the raw message (``Content-Type: message/rfc822``). It
becomes a ``MessageStatus`` for the message it is about and a ``plugin.email.bounced`` event
that marks the address undeliverable on a hard bounce (server/email).
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import ssl
from email import policy
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.parser import BytesParser, HeaderParser
from email.utils import formataddr, formatdate, getaddresses, parseaddr
from uuid import uuid4

import aiosmtplib

from server.i18n import N_, _
from server.plugins import egress
from server.plugins.hookspecs import API_VERSION, hookimpl
from server.plugins.types import (
    ConfigField,
    ConnectionResult,
    MessageStatus,
    OutgoingMessage,
    PluginError,
    PluginEvent,
    PluginInfo,
    SentMessage,
    WebhookRequest,
    WebhookResponse,
    WebhookResult,
)

NAME = "email"
# Below the 30 s a hook may take; tests shorten it to exercise timeouts.
TIMEOUT = 20.0
SECURITY = ("starttls", "tls", "none")
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_WIRE = policy.compat32.clone(linesep="\r\n")
_VERP = re.compile(r"^[^+@]+\+([0-9a-f]{32})@", re.IGNORECASE)


@hookimpl
def crm_plugin_info():
    return PluginInfo(
        name=NAME,
        title="E-mail (SMTP)",
        version="1.0.0",
        capabilities=("messaging",),
        api_version=API_VERSION,
        channels=("email",),
        description="Customer notifications by e-mail through your SMTP server, with one-click "
        "unsubscribe and bounce handling.",
    )


@hookimpl
def crm_config_schema():
    return [
        ConfigField("host", required=True, label="SMTP server", help="e.g. smtp.gmail.com or your provider's relay."),
        ConfigField("port", type="integer", default=587, label="Port", help="587 for STARTTLS, 465 for TLS."),
        ConfigField(
            "security",
            type="choice",
            choices=SECURITY,
            default="starttls",
            label="Encryption",
            help="starttls (port 587), tls (port 465), none (a relay on the same machine only).",
        ),
        ConfigField("username", label="User name", help="Leave empty if the server needs no login."),
        ConfigField("password", secret=True, label="Password", help="The SMTP password or app password."),
        ConfigField("from_address", required=True, label="From address", help="e.g. shop@example.com"),
        ConfigField("from_name", label="From name", help="The name customers see, e.g. your shop's name."),
        ConfigField(
            "bounce_address",
            label="Bounce address",
            help="A mailbox whose mail is piped to this installation's webhook URL + 'bounce'. Messages "
            "go out with the return path bounce+<id>@ its domain, so each bounce finds its message.",
        ),
        ConfigField(
            "validate_certs",
            type="boolean",
            default=True,
            label="Check the server certificate",
            help="Turn off only for a server with a self-signed certificate you trust.",
        ),
    ]


# -- connecting -----------------------------------------------------------------------------


def _settings_error(message: str, code: str) -> PluginError:
    return PluginError(message, code=code, retryable=False)


async def _check_host(host: str, port: int) -> None:
    """The egress guard of plugins (server/plugins/egress.py) for a raw socket: the SMTP server
    must resolve to public addresses only, unless the CRM allows local providers."""
    if egress.local_allowed():
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise PluginError(
            _("The SMTP server name %(host)s does not resolve (%(strerror)s).", host=host, strerror=exc.strerror),
            code="CONNECT",
        ) from None
    addresses = {info[4][0].split("%")[0] for info in infos}
    if not addresses or not all(egress.is_public(ipaddress.ip_address(a)) for a in addresses):
        raise _settings_error(f"The SMTP server {host} is not a public address.", "EGRESS")


def _client(config: dict, secrets: dict) -> aiosmtplib.SMTP:
    security = config.get("security") or "starttls"
    validate = config.get("validate_certs", True) is not False
    return aiosmtplib.SMTP(
        hostname=config.get("host"),
        port=int(config.get("port") or (465 if security == "tls" else 587)),
        username=(config.get("username") or None),
        password=(secrets.get("password") or None) if config.get("username") else None,
        use_tls=security == "tls",
        start_tls=True if security == "starttls" else False,
        validate_certs=validate,
        timeout=TIMEOUT,
    )


async def _open(config: dict, secrets: dict) -> aiosmtplib.SMTP:
    """Connected, encrypted as configured and signed in; nothing sent yet, so every failure
    here is safe to retry unless the settings are wrong."""
    host = (config.get("host") or "").strip()
    smtp = _client(config, secrets)
    await _check_host(host, smtp.port)
    try:
        await smtp.connect()
    except aiosmtplib.SMTPAuthenticationError:
        raise _settings_error(
            "The SMTP server refused the user name or password: check them in the plugin settings.", "AUTH"
        ) from None
    except aiosmtplib.SMTPNotSupported as exc:
        raise _settings_error(
            f"The SMTP server {host} does not offer what the settings ask for ({exc}): check the encryption "
            "and the port.",
            "TLS",
        ) from None
    except ssl.SSLError as exc:
        raise _settings_error(f"TLS with {host} failed ({exc.reason}): check the encryption setting.", "TLS") from None
    except aiosmtplib.SMTPResponseException as exc:
        if 400 <= exc.code < 500:
            raise PluginError(
                _("The SMTP server is busy (%(code)s %(message)s).", code=exc.code, message=exc.message),
                code=str(exc.code),
                retryable=True,
            ) from None
        raise _settings_error(
            f"The SMTP server refused the connection ({exc.code} {exc.message}).", str(exc.code)
        ) from None
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise PluginError(
            _("Could not connect to the SMTP server %(host)s: %(exc)s", host=host, exc=exc),
            code="CONNECT",
            retryable=True,
        ) from None
    return smtp


async def _close(smtp: aiosmtplib.SMTP) -> None:
    try:
        await smtp.quit()
    except (aiosmtplib.SMTPException, OSError):
        smtp.close()


# -- composing ------------------------------------------------------------------------------


def _domain(address: str) -> str:
    return address.rpartition("@")[2].strip().lower() or "localhost"


def _envelope_sender(config: dict, token: str) -> str:
    """VERP (email.md): bounce+<message token>@domain, so a DSN names its message."""
    bounce = (config.get("bounce_address") or "").strip()
    if not bounce:
        return (config.get("from_address") or "").strip()
    local, _, domain = bounce.rpartition("@")
    return f"{local}+{token}@{domain}"


def message_id_of(config: dict, token: str) -> str:
    return f"<{token}@{_domain(config.get('from_address') or '')}>"


def _charset() -> Charset:
    charset = Charset("utf-8")
    charset.header_encoding = charset.body_encoding = QP  # readable in a raw view, safe in 7 bits
    return charset


def compose(config: dict, message: OutgoingMessage) -> tuple[Message, str, str]:
    """The MIME message (text and HTML alternatives), its Message-ID and the envelope sender.

    Built with the classic ``email.mime`` classes and ``Header``: the modern policy's folder
    (Python 3.11) drops the space between two encoded words when it folds a long non-ASCII
    subject, so a Ukrainian subject would reach the customer with words glued together."""
    token = uuid4().hex
    from_address = (config.get("from_address") or "").strip()
    mail: Message = MIMEText(message.text, "plain", _charset())
    if message.html:
        mail = MIMEMultipart("alternative")
        mail.attach(MIMEText(message.text, "plain", _charset()))
        mail.attach(MIMEText(message.html, "html", _charset()))
    mail["From"] = formataddr(((config.get("from_name") or "").strip(), from_address), charset="utf-8")
    mail["To"] = message.to
    mail["Subject"] = Header(" ".join(message.subject.split()), "utf-8")
    mail["Date"] = formatdate(usegmt=True)
    message_id = message_id_of(config, token)
    mail["Message-ID"] = message_id
    for name, value in message.headers.items():
        mail[name] = " ".join(str(value).split())  # never a line break: no header injection
    return mail, message_id, _envelope_sender(config, token)


# -- hooks ----------------------------------------------------------------------------------


@hookimpl
async def crm_test_connection(config, secrets):
    smtp = await _open(config, secrets)
    try:
        await smtp.noop()
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise PluginError(
            _("The SMTP server stopped answering: %(exc)s", exc=exc), code="CONNECT", retryable=True
        ) from None
    finally:
        await _close(smtp)
    how = {"starttls": "STARTTLS", "tls": "TLS", "none": _("no encryption")}[config.get("security") or "starttls"]
    server = f"{config.get('host')}:{smtp.port}"
    if config.get("username"):
        message = _(
            "Connected to %(server)s (%(how)s), signed in as %(user)s.", server=server, how=how, user=config["username"]
        )
    else:
        message = _("Connected to %(server)s (%(how)s).", server=server, how=how)
    return ConnectionResult(ok=True, message=message)


def _refused(exc: aiosmtplib.SMTPResponseException, sentence: str) -> SentMessage:
    return SentMessage(
        None,
        status="failed",
        error_code=str(exc.code),
        error_message=_(sentence, code=exc.code, message=exc.message),
        raw={"code": exc.code, "message": exc.message},
    )


@hookimpl
async def crm_messaging_send(config, secrets, message: OutgoingMessage):
    if message.channel != "email":
        raise PluginError(
            _("The e-mail plugin sends e-mail, not '%(channel)s'.", channel=message.channel), code="UNSUPPORTED_CHANNEL"
        )
    to = message.to.strip()
    if not _ADDRESS.match(to):
        return SentMessage(
            None,
            status="failed",
            error_code="INVALID_ADDRESS",
            error_message=_("'%(to)s' is not an e-mail address.", to=to),
        )
    mail, message_id, sender = compose(config, message)
    smtp = await _open(config, secrets)
    try:
        utf8 = not to.isascii() and smtp.supports_extension("smtputf8")
        try:
            await smtp.mail(sender, options=["SMTPUTF8"] if utf8 else None)
            await smtp.rcpt(to, encoding="utf-8" if utf8 else "ascii")
        except aiosmtplib.SMTPSenderRefused as exc:
            if 400 <= exc.code < 500:
                raise PluginError(
                    _(
                        "The mail server deferred the sender (%(code)s %(message)s).",
                        code=exc.code,
                        message=exc.message,
                    ),
                    code=str(exc.code),
                    retryable=True,
                ) from None
            raise _settings_error(
                f"The mail server refused the sender {sender} ({exc.code} {exc.message}): check the from and "
                "bounce addresses.",
                str(exc.code),
            ) from None
        except aiosmtplib.SMTPRecipientRefused as exc:
            if 400 <= exc.code < 500:  # greylisting, a full mailbox for now: nothing was sent
                raise PluginError(
                    _(
                        "The mail server deferred the recipient (%(code)s %(message)s).",
                        code=exc.code,
                        message=exc.message,
                    ),
                    code=str(exc.code),
                    retryable=True,
                ) from None
            return _refused(exc, N_("The mail server refused the recipient: %(code)s %(message)s"))
        except aiosmtplib.SMTPResponseException as exc:
            raise PluginError(
                _(
                    "The mail server answered %(code)s %(message)s before the message was sent.",
                    code=exc.code,
                    message=exc.message,
                ),
                code=str(exc.code),
                retryable=400 <= exc.code < 500,
            ) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            # Before DATA the server holds nothing of the message: safe to try again.
            raise PluginError(
                _("The mail server went away before the message was sent: %(exc)s", exc=exc),
                code="CONNECT",
                retryable=True,
            ) from None
        data = mail.as_bytes(policy=_WIRE)
        try:
            await smtp.data(data)
        except aiosmtplib.SMTPResponseException as exc:
            # An answer to DATA or to the message is certain: 4xx kept nothing, 5xx refused it.
            if 400 <= exc.code < 500:
                raise PluginError(
                    _(
                        "The mail server deferred the message (%(code)s %(message)s).",
                        code=exc.code,
                        message=exc.message,
                    ),
                    code=str(exc.code),
                    retryable=True,
                ) from None
            return _refused(exc, N_("The mail server refused the message: %(code)s %(message)s"))
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise PluginError(
                _(
                    "The connection to the mail server was lost while sending (%(exc)s): the message may or may not "
                    "have been accepted. Check the mail server's log before sending it again.",
                    exc=exc,
                ),
                code="OUTCOME_UNKNOWN",
                retryable=False,
            ) from None
    finally:
        await _close(smtp)
    return SentMessage(message_id, status="sent", raw={"envelope_from": sender})


# -- bounces --------------------------------------------------------------------------------


def _field(block: Message, name: str) -> str:
    return " ".join(str(block.get(name, "")).split())


def _typed(value: str) -> str:
    """``rfc822; user@example.com`` -> ``user@example.com``."""
    return value.partition(";")[2].strip() if ";" in value else value.strip()


def _original_message_id(report: Message, config: dict) -> str:
    """The Message-ID of the message the DSN is about: from the returned headers, else from the
    VERP return path the DSN was sent to."""
    for part in report.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            if isinstance(inner, Message) and inner.get("Message-ID"):
                return str(inner["Message-ID"]).strip()
        if kind in ("text/rfc822-headers", "message/rfc822-headers"):
            headers = HeaderParser().parsestr(part.get_payload(decode=True).decode("utf-8", "replace"))
            if headers.get("Message-ID"):
                return str(headers["Message-ID"]).strip()
    for name in ("X-Original-To", "Delivered-To", "To", "Envelope-To"):
        for _display, address in getaddresses([str(v) for v in report.get_all(name, [])]):
            found = _VERP.match(address or "")
            if found:
                return message_id_of(config, found.group(1).lower())
    return ""


def parse_dsn(body: bytes, config: dict) -> tuple[str, list[dict]]:
    """(the original Message-ID, one dict per recipient: address, action, status, diagnostic).
    Empty when the message is not an RFC 3464 delivery status notification."""
    report = BytesParser(policy=policy.compat32).parsebytes(body)
    if report.get_content_type() != "multipart/report":
        return "", []
    recipients = []
    for part in report.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        for block in blocks[1:] if isinstance(blocks, list) else []:  # the first block is per message
            address = _typed(_field(block, "Final-Recipient") or _field(block, "Original-Recipient"))
            address = parseaddr(address)[1] or address
            if not address:
                continue
            recipients.append(
                {
                    "address": address.lower(),
                    "action": _field(block, "Action").lower(),
                    "status": _field(block, "Status").split(" ")[0],
                    "diagnostic": _typed(_field(block, "Diagnostic-Code"))[:500],
                }
            )
    return _original_message_id(report, config), recipients


@hookimpl
def crm_webhook(config, request: WebhookRequest):
    """``POST .../bounce`` with a raw DSN. Authenticated by the URL's token (and the IP
    allow-list if set): a mail server's pipe carries no signature."""
    if request.method != "POST" or request.path.strip("/") != "bounce":
        return WebhookResult(response=WebhookResponse(404, {"error": "not found"}))
    message_id, recipients = parse_dsn(request.body, config)
    if not recipients:
        # Not a DSN (an auto-reply, an old-style bounce): accepted and ignored, so the mail
        # server does not bounce the bounce.
        return WebhookResult(response=WebhookResponse(200, {"status": "ignored"}))
    events: list = []
    for item in recipients:
        permanent = item["status"].startswith("5")
        if item["action"] == "failed":
            if message_id:
                events.append(
                    MessageStatus(
                        message_id, "failed", provider_status=item["status"], error_code=item["status"], raw=item
                    )
                )
            events.append(PluginEvent("email.bounced", {**item, "hard": permanent, "provider_message_id": message_id}))
        elif item["action"] == "delivered" and message_id:
            events.append(MessageStatus(message_id, "delivered", provider_status=item["status"], raw=item))
    report = BytesParser(policy=policy.compat32).parsebytes(request.body, headersonly=True)
    own_id = str(report.get("Message-ID") or "").strip()
    return WebhookResult(
        events=events,
        dedupe_key=f"dsn:{own_id}" if own_id else None,
        response=WebhookResponse(200, {"status": "ok"}),
    )
