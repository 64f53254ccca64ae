"""Phone numbers in E.164 (default region UA), so a caller id, an SMS recipient and a
marketplace buyer match the same account."""

from __future__ import annotations

import phonenumbers

from server.core.errors import ErrorCode, Problems, UserInputError
from server.i18n import _

DEFAULT_REGION = "UA"


def _legacy_ua(raw: str) -> str:
    """Ukrainians still write mobiles with the old trunk prefix: 8 (067) 123-45-67."""
    digits = "".join(ch for ch in raw if ch.isdigit())
    if len(digits) == 11 and digits.startswith("80") and not raw.lstrip().startswith("+"):
        return "+3" + digits
    return raw


def to_e164(raw: str, field: str = "phone", region: str = DEFAULT_REGION) -> str:
    try:
        number = phonenumbers.parse(_legacy_ua(raw) if region == "UA" else raw, region)
    except phonenumbers.NumberParseException as exc:
        raise UserInputError(ErrorCode.INVALID, _("'%(raw)s' is not a phone number.", raw=raw), field) from exc
    if not phonenumbers.is_valid_number(number):
        raise UserInputError(ErrorCode.INVALID, _("'%(raw)s' is not a valid phone number.", raw=raw), field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_phones(raws: list[str], field: str = "phones") -> list[str]:
    """E.164, duplicates dropped, the caller's order kept (the first is the primary)."""
    seen: dict[str, None] = {}
    problems = Problems()
    for i, raw in enumerate(raws):
        with problems:
            seen.setdefault(to_e164(raw, f"{field}.{i}"), None)
    problems.raise_if_any()
    return list(seen)


def try_e164(raw: str, region: str = DEFAULT_REGION) -> str | None:
    """For searches: a normalized number, or None when the text is not a phone."""
    try:
        return to_e164(raw, region=region)
    except UserInputError:
        return None
