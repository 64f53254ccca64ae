"""The Nova Poshta API 2.0 wire protocol (JSON): one endpoint, the API key in the body.

Request: ``{"apiKey", "modelName", "calledMethod", "methodProperties"}`` POSTed to
``https://api.novaposhta.ua/v2.0/json/``. Answer: HTTP 200 even on failure, with
``success`` (bool), ``data`` (list), ``errors``/``warnings``/``info`` and their ``*Codes``.
A failed call becomes a ``PluginError`` worded for the organization's admin.

All HTTP goes through ``server.plugins.http.ProviderClient`` (timeouts, retries on 5xx/429
honouring ``Retry-After``). Creating a waybill is never retried: Nova Poshta has no
idempotency key, so a repeated ``save`` would make a second waybill.
"""

from __future__ import annotations

from typing import Any

import httpx

from server.i18n import _
from server.plugins.http import ProviderClient
from server.plugins.types import PluginError

PROVIDER = "Nova Poshta"
DEFAULT_API_URL = "https://api.novaposhta.ua/v2.0/json/"
MAX_TRACKING_DOCUMENTS = 100  # TrackingDocument.getStatusDocuments takes at most 100 documents a call

# Error texts Nova Poshta sends (errorCodes are not reliable enough to match on, the texts are).
AUTH_FAIL = "API auth fail"


def _explain(errors: list[str], codes: list[str]) -> PluginError:
    """A PluginError an admin can act on, from the envelope's ``errors``."""
    texts = [str(e) for e in errors if e] or ["unknown error"]
    code = str(codes[0]) if codes else ""
    if any(AUTH_FAIL.lower() in t.lower() for t in texts):
        return PluginError(
            _(
                "Nova Poshta rejected the API key: check the key in your Nova Poshta business account "
                "(Settings → Security) and enter it again in the plugin settings."
            ),
            code="AUTH_FAILED",
        )
    joined = "; ".join(texts)
    lowered = joined.lower()
    if "document number is not correct" in lowered:
        return PluginError(
            _("Nova Poshta does not accept this waybill number (%(joined)s).", joined=joined), code=code or "BAD_NUMBER"
        )
    if "document not found" in lowered:
        return PluginError(
            _("Nova Poshta knows no such waybill (%(joined)s).", joined=joined), code=code or "NOT_FOUND"
        )
    if "many requests" in lowered:
        return PluginError(
            _("Nova Poshta is rate limiting us (%(joined)s); try again later.", joined=joined),
            code=code,
            retryable=True,
        )
    return PluginError(_("Nova Poshta refused the request: %(joined)s.", joined=joined), code=code)


class NovaPoshtaAPI:
    """One API key against one endpoint; use as ``async with NovaPoshtaAPI(...) as api``."""

    def __init__(
        self,
        api_key: str,
        api_url: str = DEFAULT_API_URL,
        *,
        timeout: float | None = None,
        attempts: int = 3,
        initial_wait: float = 0.5,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        if not api_key:
            raise PluginError(_("The Nova Poshta API key is not set: enter it in the plugin settings."), code="NO_KEY")
        self.api_key = api_key
        self.api_url = api_url or DEFAULT_API_URL
        kwargs: dict[str, Any] = {}
        if timeout:
            kwargs["timeout"] = httpx.Timeout(float(timeout), connect=min(5.0, float(timeout)))
        self._client = ProviderClient(
            PROVIDER, attempts=attempts, initial_wait=initial_wait, transport=transport, **kwargs
        )

    async def __aenter__(self) -> NovaPoshtaAPI:
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self._client.aclose()

    async def call(self, model: str, method: str, properties: dict | None = None, *, retry: bool = True) -> dict:
        """The whole envelope of a successful call; a ``PluginError`` otherwise."""
        body = {
            "apiKey": self.api_key,
            "modelName": model,
            "calledMethod": method,
            "methodProperties": properties or {},
        }
        response = await self._client.request("POST", self.api_url, json=body, retry=retry)
        try:
            envelope = response.json()
        except ValueError:
            envelope = None
        if not isinstance(envelope, dict) or "success" not in envelope:
            raise PluginError(
                _(
                    "Nova Poshta answered HTTP %(status_code)s with something that is not its API envelope: check the "
                    "API URL in the plugin settings.",
                    status_code=response.status_code,
                ),
                code="BAD_RESPONSE",
                retryable=response.status_code >= 500,
            )
        if not envelope.get("success"):
            raise _explain(list(envelope.get("errors") or []), list(envelope.get("errorCodes") or []))
        return envelope

    async def data(self, model: str, method: str, properties: dict | None = None, *, retry: bool = True) -> list:
        data = (await self.call(model, method, properties, retry=retry)).get("data")
        return data if isinstance(data, list) else []
