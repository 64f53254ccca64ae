"""Ukrposhta's status-tracking API (/work/shared/providers/ukrposhta.md): JSON over HTTPS with
``Authorization: Bearer <StatusTracking token>``.

- ``GET  {base}/statuses/last?barcode=...``: the last event of one parcel (404: unknown barcode);
- ``GET  {base}/statuses?barcode=...&lang=UA``: every event of one parcel;
- ``POST {base}/statuses/last`` with a JSON array of barcodes: the last event of each known one.

401 or 403 means the token is wrong (or is the contract's eCom or address-classifier token,
not the tracking one). Every call here only reads, so every call may be retried.
"""

from __future__ import annotations

from typing import Any

import httpx

from server.i18n import _
from server.plugins.http import ProviderClient
from server.plugins.types import PluginError

PROVIDER = "Ukrposhta"
DEFAULT_API_URL = "https://www.ukrposhta.ua/status-tracking/0.0.1"
BATCH = 100  # barcodes per batch call (the CRM passes at most 100; Ukrposhta documents no limit)


class UkrposhtaAPI:
    """One tracking token against one base URL; use as ``async with UkrposhtaAPI(...) as api``."""

    def __init__(
        self,
        token: str,
        api_url: str = DEFAULT_API_URL,
        *,
        timeout: float | None = None,
        attempts: int = 3,
        initial_wait: float = 0.5,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        if not token:
            raise PluginError(
                _("The Ukrposhta tracking token is not set: enter it in the plugin settings."), code="NO_TOKEN"
            )
        self.base = (api_url or DEFAULT_API_URL).rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        kwargs: dict[str, Any] = {}
        if timeout:
            kwargs["timeout"] = httpx.Timeout(float(timeout), connect=min(5.0, float(timeout)))
        self._client = ProviderClient(
            PROVIDER, attempts=attempts, initial_wait=initial_wait, transport=transport, **kwargs
        )

    async def __aenter__(self) -> UkrposhtaAPI:
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self._client.aclose()

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        """The decoded answer of a 200; None for a 404 (an unknown barcode); a PluginError otherwise."""
        response = await self._client.request(method, self.base + path, headers=self.headers, retry=True, **kwargs)
        if response.status_code in (401, 403):
            raise PluginError(
                _(
                    "Ukrposhta rejected the tracking token (HTTP %(status_code)s): enter the StatusTracking token "
                    "from your Ukrposhta contract (not the eCom or address classifier one) in the plugin settings.",
                    status_code=response.status_code,
                ),
                code="AUTH_FAILED",
            )
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise PluginError(
                _(
                    "Ukrposhta refused the request (HTTP %(status_code)s): %(text)s",
                    status_code=response.status_code,
                    text=response.text[:300] or "-",
                ),
                code=str(response.status_code),
            )
        try:
            return response.json()
        except ValueError:
            raise PluginError(
                _("Ukrposhta answered with something that is not JSON: check the API URL in the plugin settings."),
                code="BAD_RESPONSE",
            ) from None

    async def last_statuses(self, barcodes: list[str]) -> list[dict]:
        """The last event of each barcode Ukrposhta knows (unknown ones are left out)."""
        out: list[dict] = []
        for start in range(0, len(barcodes), BATCH):
            answer = await self._json("POST", "/statuses/last", json=barcodes[start : start + BATCH])
            if answer is not None and not isinstance(answer, list):
                raise PluginError(
                    _("Ukrposhta answered the batch status request with something that is not a list of events."),
                    code="BAD_RESPONSE",
                )
            out.extend(e for e in answer or [] if isinstance(e, dict))
        return out

    async def check_token(self) -> None:
        """An empty batch request: it needs the token, reads nothing and changes nothing."""
        await self._json("POST", "/statuses/last", json=[])

    async def last_status(self, barcode: str) -> dict | None:
        answer = await self._json("GET", "/statuses/last", params={"barcode": barcode})
        return answer if isinstance(answer, dict) else None

    async def statuses(self, barcode: str, lang: str = "UA") -> list[dict]:
        answer = await self._json("GET", "/statuses", params={"barcode": barcode, "lang": lang})
        return [e for e in answer or [] if isinstance(e, dict)]
