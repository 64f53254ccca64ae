"""Money is Decimal with an ISO 4217 currency, rounded half-up to the currency's minor unit."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from server.core.errors import ErrorCode, UserInputError
from server.i18n import _

# ISO 4217 codes the product accepts. Extend when a tenant needs another.
CURRENCIES = {"UAH", "USD", "EUR", "PLN", "GBP", "CZK", "MDL", "RON"}
CENT = Decimal("0.01")


def quantize(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_amount(value: object, field: str, *, allow_negative: bool = False) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise UserInputError(ErrorCode.INVALID, _("'%(value)s' is not a decimal amount.", value=value), field) from exc
    if not amount.is_finite():
        raise UserInputError(ErrorCode.INVALID, _("Amount must be a finite number."), field)
    if amount < 0 and not allow_negative:
        raise UserInputError(ErrorCode.INVALID, _("Amount must not be negative."), field)
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise UserInputError(ErrorCode.INVALID, _("Amount has more than 2 decimal places."), field)
    if abs(amount) >= Decimal("1e12"):
        raise UserInputError(ErrorCode.INVALID, _("Amount is too large."), field)
    return quantize(amount)


def check_currency(code: str, field: str = "currency") -> str:
    code = code.upper()
    if code not in CURRENCIES:
        raise UserInputError(ErrorCode.INVALID, _("Unsupported currency '%(code)s'.", code=code), field)
    return code
