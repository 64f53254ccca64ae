"""``crm mail-in``: the CRM's own SMTP receiver (aiosmtpd) for inbound e-mail.

It accepts mail only for the inbound addresses the organizations issued
(``in+<token>@<MAIL_IN_DOMAIN>``, server/email/inbound.py) and files each message before it says
``250``: once the sending server has its ``250`` the message is in the database. The SMTP answers
(RFC 5321, enhanced codes of RFC 3463):

- ``550 5.1.1`` at ``RCPT TO`` for any other recipient (an unknown or retired token, another
  domain: it is not an open relay), ``452 4.5.3`` past ``MAX_RECIPIENTS`` recipients;
- ``552`` for a message larger than ``MAIL_IN_MAX_BYTES`` (aiosmtpd announces the ``SIZE`` too);
- with ``MAIL_IN_TLS_CERT`` and ``MAIL_IN_TLS_KEY`` set, ``STARTTLS`` is offered (senders that
  support it encrypt the message on its way);
- ``451 4.3.0`` when the database cannot be reached or filing failed: the sending server keeps the
  message and tries again later, and a message filed before the failure is not filed twice.
"""

from __future__ import annotations

import asyncio
import logging
import ssl

from aiosmtpd.smtp import SMTP

from server.config import Settings
from server.email import inbound

log = logging.getLogger("crm.email.receiver")

MAX_RECIPIENTS = 20
TRY_LATER = "451 4.3.0 Temporary failure, please try again later"


class InboundHandler:
    """aiosmtpd handler: recipients checked at RCPT time, the message filed at DATA time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        try:
            mailbox = await inbound.mailbox_for(self.settings, address)
        except Exception:
            log.exception("mail-in: looking up the recipient failed")
            return TRY_LATER
        if mailbox is None:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            for address in dict.fromkeys(a.lower() for a in envelope.rcpt_tos):
                mailbox = await inbound.mailbox_for(self.settings, address)
                if mailbox is None:  # the address was retired between RCPT and DATA
                    continue
                outcome = await inbound.receive(self.settings, mailbox, raw, envelope.mail_from)
                log.info("mail-in: %s for organization %s", outcome.get("type"), mailbox.organization_id)
        except Exception:
            log.exception("mail-in: filing a message failed")
            return TRY_LATER
        return "250 2.0.0 Message accepted"


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    """STARTTLS for the sending servers, when a certificate and its key are configured."""
    if not (settings.mail_in_tls_cert and settings.mail_in_tls_key):
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(settings.mail_in_tls_cert, settings.mail_in_tls_key)
    return context


def smtp_factory(settings: Settings):
    handler = InboundHandler(settings)
    hostname = settings.mail_in_domain.strip().lower() or "localhost"
    context = tls_context(settings)

    def make() -> SMTP:
        return SMTP(
            handler,
            data_size_limit=settings.mail_in_max_bytes,
            enable_SMTPUTF8=True,
            hostname=hostname,
            ident="CRM mail-in",
            tls_context=context,
        )

    return make


async def start(settings: Settings, host: str | None = None, port: int | None = None) -> asyncio.Server:
    """Listen in the running event loop (the one the database connections belong to)."""
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        smtp_factory(settings),
        host=host if host is not None else settings.mail_in_host,
        port=port if port is not None else settings.mail_in_port,
    )
