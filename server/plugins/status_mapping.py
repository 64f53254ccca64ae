"""The ``status_mapping`` setting of a marketplace plugin, read the same way by every plugin:
JSON ``{"to_crm": {<marketplace status>: <CRM status code or null>}, "from_crm": {<CRM status
code>: <marketplace status or null>}}`` laid over the plugin's defaults. A plugin checks the
values' shape for its marketplace afterwards (Rozetka's are numbers, Prom's names)."""

from __future__ import annotations

import json

from server.plugins.types import PluginError

Mapping = dict[str, str | None]


def read_status_mapping(
    config: dict, to_crm_defaults: Mapping, from_crm_defaults: Mapping, problem: PluginError
) -> tuple[Mapping, Mapping]:
    """(to_crm, from_crm): the defaults with the installation's ``status_mapping`` applied.
    ``problem`` is raised for anything not of that shape (its message shows an example)."""
    to_crm: Mapping = dict(to_crm_defaults)
    from_crm: Mapping = dict(from_crm_defaults)
    raw = (config or {}).get("status_mapping")
    if not raw:
        return to_crm, from_crm
    try:
        data = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        raise problem from None
    if not isinstance(data, dict) or set(data) - {"to_crm", "from_crm"}:
        raise problem
    for key, target in (("to_crm", to_crm), ("from_crm", from_crm)):
        part = data.get(key) or {}
        if not isinstance(part, dict):
            raise problem
        for name, value in part.items():
            if value is not None and (isinstance(value, bool) or not isinstance(value, str | int)):
                raise problem
            target[str(name).strip()] = None if value in (None, "") else str(value).strip()
    return to_crm, from_crm
