"""Duplicates: which accounts and contacts already have a phone or e-mail (the check on create
and update, with the organization's WARN or REFUSE policy), and the report of groups sharing one.

Phones are compared in E.164 and e-mails in lower case, as the services store them, through the
identifier indexes (``AccountIdentifier``, ``ContactIdentifier``)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from tortoise.expressions import Subquery
from tortoise.functions import Count

from server.accounts.models import Account, AccountIdentifier, Contact, ContactIdentifier
from server.auth.scope import Scope
from server.core.errors import ErrorCode, UserInputError, UserInputErrors
from server.graphql import ids
from server.i18n import _

WARN, REFUSE = "warn", "refuse"
POLICIES = (WARN, REFUSE)
KINDS = ("phone", "email")
MAX_MATCHES = 20  # per value: a warning names a few records, the report lists them all


@dataclass
class Match:
    """An existing record that has one of the new record's phones or e-mails."""

    field: str  # the input field the value came from: phones.0, emails.1
    kind: str  # phone | email
    value: str  # as stored (E.164, lower case); masked on the way out for callers without pii:read
    account: Account | None = None
    contact: Contact | None = None


def _wanted(phones: list[str] | None, emails: list[str] | None) -> list[tuple[str, str, str]]:
    out = [("phone", p, f"phones.{i}") for i, p in enumerate(phones or [])]
    return out + [("email", e, f"emails.{i}") for i, e in enumerate(emails or [])]


async def _holders(organization_id: UUID, wanted, exclude_account: UUID | None, exclude_contact: UUID | None):
    """Every account and contact (of any row scope) holding one of the values: value -> ids."""
    accounts: dict[tuple[str, str], list[UUID]] = {}
    contacts: dict[tuple[str, str], list[UUID]] = {}
    for kind in KINDS:
        values = [v for k, v, _f in wanted if k == kind]
        if not values:
            continue
        rows = await AccountIdentifier.filter(
            organization_id=organization_id, kind=kind, value__in=values, account__deleted_at=None
        ).values_list("value", "account_id")
        for value, pk in rows:
            if pk != exclude_account:
                accounts.setdefault((kind, value), []).append(pk)
        rows = await ContactIdentifier.filter(
            organization_id=organization_id, kind=kind, value__in=values, contact__account__deleted_at=None
        ).values_list("value", "contact_id", "contact__account_id")
        for value, pk, account_id in rows:
            # A person's own contact card repeating the account's phone is not a duplicate.
            if pk != exclude_contact and account_id != exclude_account:
                contacts.setdefault((kind, value), []).append(pk)
    return accounts, contacts


async def check(
    scope: Scope,
    phones: list[str] | None,
    emails: list[str] | None,
    *,
    exclude_account: UUID | None = None,
    exclude_contact: UUID | None = None,
) -> list[Match]:
    """The existing records the caller may see that share a phone or e-mail with the new values.

    Under the REFUSE policy any holder, seen or not, is a DUPLICATE error (one per value, all at
    once); the message names the record's ID only when the caller may see it."""
    wanted = _wanted(phones, emails)
    if not wanted:
        return []
    accounts, contacts = await _holders(scope.organization_id, wanted, exclude_account, exclude_contact)
    if not accounts and not contacts:
        return []
    visible_accounts: dict[UUID, Account] = {}
    visible_contacts: dict[UUID, Contact] = {}
    if scope.can("accounts:read"):  # a role that may create but not read learns of no record
        account_ids = [pk for pks in accounts.values() for pk in pks]
        visible_accounts = {a.id: a for a in await scope.queryset(Account).filter(id__in=account_ids)}
        contact_ids = [pk for pks in contacts.values() for pk in pks]
        visible_contacts = {c.id: c for c in await scope.queryset(Contact).filter(id__in=contact_ids)}
    emails_visible = scope.can_see_field("Account", "emails")
    matches: list[Match] = []
    refusals: list[UserInputError] = []
    for kind, value, field in wanted:
        holders = [(a, None) for a in accounts.get((kind, value), [])]
        holders += [(None, c) for c in contacts.get((kind, value), [])]
        if not holders:
            continue
        seen = [
            Match(field, kind, value, account=visible_accounts.get(a) if a else None, contact=visible_contacts.get(c))
            for a, c in holders
            if (a and a in visible_accounts) or (c and c in visible_contacts)
        ][:MAX_MATCHES]
        if kind == "email" and not emails_visible:
            seen = []  # a role that may not see e-mails is not told whose one is
        matches += seen
        if refuses(scope):
            refusals.append(_refusal(kind, seen, field))
    if refusals:
        raise UserInputErrors(refusals)
    return matches


def refuses(scope: Scope) -> bool:
    """REFUSE applies to people typing; the CRM's own imports (a marketplace sync, a caller id)
    only warn, so a known phone never makes an order or a call get lost."""
    return scope.organization.duplicate_policy == REFUSE and scope.principal.kind == "user"


def _refusal(kind: str, seen: list[Match], field: str) -> UserInputError:
    if not seen:
        if kind == "phone":
            message = _("This phone already belongs to a record you may not see.")
        else:
            message = _("This e-mail already belongs to a record you may not see.")
        return UserInputError(ErrorCode.DUPLICATE, message, field)
    first = seen[0]
    gid = ids.encode("Account", first.account.id) if first.account else ids.encode("Contact", first.contact.id)
    if kind == "phone":
        message = _("This phone already belongs to %(id)s.", id=gid)
    else:
        message = _("This e-mail already belongs to %(id)s.", id=gid)
    return UserInputError(ErrorCode.DUPLICATE, message, field)


async def sync_contact_identifiers(contact: Contact) -> None:
    await ContactIdentifier.filter(contact_id=contact.id).delete()
    rows = [
        ContactIdentifier(organization_id=contact.organization_id, contact_id=contact.id, kind=kind, value=value)
        for kind, values in (("phone", contact.phones), ("email", contact.emails))
        for value in values
    ]
    if rows:
        await ContactIdentifier.bulk_create(rows)


# -- the report ------------------------------------------------------------------


@dataclass
class Group:
    """Records of one type that share a phone or an e-mail."""

    kind: str
    value: str
    accounts: list[Account]
    contacts: list[Contact]


async def groups(scope: Scope, object_type: str, offset: int, limit: int) -> tuple[list[Group], bool]:
    """A page of groups (``limit`` of them from ``offset``, ordered by kind and value) of the
    caller's accounts or contacts that share a phone or e-mail, and whether more follow.

    Only records the caller may see are counted, so a group never names a hidden record and a
    pair of which the caller sees one is not a group for them."""
    if object_type == "accounts":
        index, owner = AccountIdentifier, "account_id"
        visible = scope.queryset(Account).values("id")
    else:
        index, owner = ContactIdentifier, "contact_id"
        visible = scope.queryset(Contact).values("id")
    # Grouping by e-mail would show them to a role that may not see Account.emails.
    kinds = KINDS if scope.can_see_field("Account", "emails") else ("phone",)
    base = index.filter(organization_id=scope.organization_id, kind__in=kinds, **{f"{owner}__in": Subquery(visible)})
    keys = (
        await base.annotate(n=Count(owner, distinct=True))
        .group_by("kind", "value")
        .filter(n__gt=1)
        .order_by("kind", "value")
        .offset(offset)
        .limit(limit + 1)
        .values_list("kind", "value")
    )
    has_next = len(keys) > limit
    keys = keys[:limit]
    if not keys:
        return [], False
    members: dict[tuple[str, str], list[UUID]] = {}
    for kind in kinds:
        values = [v for k, v in keys if k == kind]
        if values:
            for value, pk in await base.filter(kind=kind, value__in=values).values_list("value", owner):
                members.setdefault((kind, value), []).append(pk)
    model = Account if object_type == "accounts" else Contact
    rows = {r.id: r for r in await scope.queryset(model).filter(id__in=[p for ps in members.values() for p in ps])}
    out = []
    for kind, value in keys:
        found = sorted(
            (rows[p] for p in dict.fromkeys(members.get((kind, value), [])) if p in rows),
            key=lambda r: (r.created_at, str(r.id)),
        )
        out.append(Group(kind, value, found if model is Account else [], found if model is Contact else []))
    return out, has_next
