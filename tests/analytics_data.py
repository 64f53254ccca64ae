"""Small hand-made data sets for the analytics tests: rows written with the models, with the
exact timestamps a test needs (the services stamp "now"). Reads go through the real API."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

from server.accounts.models import Account
from server.graphql import ids
from server.orders.models import Order, OrderStatus
from server.organizations.models import Organization


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


class Shop:
    """One organization's accounts and orders, with created_at set as given."""

    def __init__(self, org: Organization):
        self.org = org
        self.number = 0
        self.accounts: dict[str, Account] = {}

    @classmethod
    async def of(cls, slug: str) -> Shop:
        return cls(await Organization.get(slug=slug))

    async def status(self, group: str) -> OrderStatus:
        return await OrderStatus.filter(organization_id=self.org.id, group=group).order_by("position").first()

    async def account(self, name: str, source: str | None = None, owner: str | None = None) -> Account:
        owner_id = ids.decode(owner, "User")[1] if owner else None
        account = await Account.create(organization_id=self.org.id, name=name, source=source, owner_id=owner_id)
        self.accounts[name] = account
        return account

    async def order(
        self,
        name: str,
        at: datetime,
        total: str,
        currency: str = "UAH",
        *,
        group: str = "new",
        channel: str = "manual",
        manager: str | None = None,
    ) -> Order:
        self.number += 1
        status = await self.status(group)
        manager_id: UUID | None = ids.decode(manager, "User")[1] if manager else None
        order = await Order.create(
            organization_id=self.org.id,
            number=self.number,
            account_id=self.accounts[name].id,
            status_id=status.id,
            currency=currency,
            subtotal=Decimal(total),
            total=Decimal(total),
            source=channel,
            manager_id=manager_id,
        )
        await Order.filter(id=order.id).update(created_at=at)
        return order


CUSTOMERS = """query($from: Date!, $to: Date!, $filter: AnalyticsFilter) {
  analytics(period: {from: $from, to: $to}, filter: $filter) {
    period { from to timezone startsAt endsAt }
    customers {
      orders customersWhoOrdered
      byCurrency { currency orders customers revenue { amount currency } averageOrderValue { amount currency }
                   revenuePerCustomer { amount currency } }
      purchaseFrequency repeatPurchaseRate customerLifespanDays lostAfterDays
      customersAtStart customersAtEnd newCustomers lostCustomers retentionRate churnRate
    }
  }
}"""

SET_SETTINGS = """mutation($input: UpdateAnalyticsSettingsInput!) {
  updateAnalyticsSettings(input: $input) {
    settings { lostAfterDays ltvFormula grossMarginPercent lifetimeYears discountRatePercent npvYears }
    errors { field code message }
  }
}"""

SET_COST = """mutation($input: SetAcquisitionCostInput!) {
  setAcquisitionCost(input: $input) {
    acquisitionCost { source month amount { amount currency } }
    errors { field code message }
  }
}"""
