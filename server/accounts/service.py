"""Accounts and contacts: the only writer of their tables."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from uuid import UUID

from tortoise.expressions import Subquery
from tortoise.transactions import in_transaction

from server.accounts import duplicates
from server.accounts.models import Account, AccountIdentifier, Contact, ContactIdentifier
from server.analytics import figures
from server.audit import service as audit
from server.auth.masking import refuse_masked
from server.auth.scope import Scope
from server.core import idempotency, outbox
from server.core.errors import ErrorCode, Problems, UserInputError, version_conflict
from server.core.phones import normalize_phones, try_e164
from server.core.serialize import snapshot
from server.core.text import check_custom_fields, limited_text, one_of, required_text
from server.core.versioning import update_versioned
from server.customfields import service as customfields
from server.i18n import _
from server.search import index as search_index

KINDS = ("person", "company")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ACCOUNT_FIELDS = ["kind", "name", "phones", "emails", "addresses", "tags", "source", "owner_id", "custom_fields"]
CONTACT_FIELDS = ["name", "position", "phones", "emails"]


def normalize_email(raw: str, field: str = "email") -> str:
    email = raw.strip().lower()
    refuse_masked(email, field)
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise UserInputError(ErrorCode.INVALID, _("'%(raw)s' is not an e-mail address.", raw=raw[:254]), field)
    return email


def normalize_emails(raws: list[str], field: str = "emails") -> list[str]:
    out: dict[str, None] = {}
    problems = Problems()
    for i, raw in enumerate(raws):
        with problems:
            out.setdefault(normalize_email(raw, f"{field}.{i}"), None)
    problems.raise_if_any()
    return list(out)


def _texts(raws: list[str], field: str, max_length: int, problems: Problems) -> list[str]:
    out = []
    for i, raw in enumerate(raws):
        with problems:
            out.append(required_text(raw, f"{field}.{i}", max_length))
    return out


def _clean_account(data: dict, problems: Problems) -> dict:
    """The values to store; every invalid field goes to ``problems``."""
    values: dict = {}
    with problems:
        if "kind" in data:
            values["kind"] = one_of(data["kind"], KINDS, "kind")
    with problems:
        if "name" in data:
            values["name"] = required_text(data["name"], "name", 300)
    with problems:
        if "phones" in data:
            values["phones"] = normalize_phones(data["phones"] or [])
    with problems:
        if "emails" in data:
            values["emails"] = normalize_emails(data["emails"] or [])
    if "addresses" in data:
        values["addresses"] = _texts(data["addresses"] or [], "addresses", 500, problems)
        for i, raw in enumerate(data["addresses"] or []):
            with problems:
                refuse_masked(raw, f"addresses.{i}")
    if "tags" in data:
        values["tags"] = sorted({t.lower() for t in _texts(data["tags"] or [], "tags", 64, problems)})
    with problems:
        if "source" in data:
            values["source"] = limited_text(data["source"], "source", 64) or None
    with problems:
        if "custom_fields" in data:
            values["custom_fields"] = check_custom_fields(data["custom_fields"] or {}, "customFields")
    return values


async def _check_owner(scope: Scope, owner_id: UUID | None) -> None:
    from server.auth.service import is_member  # the auth domain owns memberships

    if owner_id is not None and not await is_member(scope.organization_id, owner_id):
        raise UserInputError(ErrorCode.NOT_FOUND, _("Owner is not a member of this organization."), "ownerId")
    scope.check_owner(owner_id)


async def _sync_identifiers(account: Account) -> None:
    await AccountIdentifier.filter(account_id=account.id).delete()
    rows = [
        AccountIdentifier(organization_id=account.organization_id, account_id=account.id, kind="phone", value=p)
        for p in account.phones
    ]
    rows += [
        AccountIdentifier(organization_id=account.organization_id, account_id=account.id, kind="email", value=e)
        for e in account.emails
    ]
    rows += [
        AccountIdentifier(organization_id=account.organization_id, account_id=account.id, kind="tag", value=t)
        for t in account.tags
    ]
    if rows:
        await AccountIdentifier.bulk_create(rows)


async def create_account(scope: Scope, data: dict, idempotency_key: str | None = None) -> Account:
    scope.require("accounts:create")
    problems = Problems()
    with problems:
        idempotency.check_key(idempotency_key)
    values = _clean_account(data, problems)
    if "name" not in data:
        problems.add(ErrorCode.REQUIRED, _("name is required."), "name")
    values["owner_id"] = data.get("owner_id", scope.user_id)
    with problems:
        await _check_owner(scope, values["owner_id"])
    typed = await customfields.clean(scope, "account", data, problems, creating=True)
    problems.raise_if_any()

    async def create() -> Account:
        matches = await duplicates.check(scope, values.get("phones"), values.get("emails"))
        account = await Account.create(organization_id=scope.organization_id, **values)
        account.duplicate_matches = matches  # shown once, in the creating payload
        await _sync_identifiers(account)
        typed_changes = await customfields.save(typed, account.id)
        await search_index.index(account)
        await figures.ensure_row(scope.organization_id, account.id)
        await audit.record(
            scope,
            "account.create",
            account,
            {**{k: [None, v] for k, v in snapshot(account, ACCOUNT_FIELDS).items()}, **typed_changes},
        )
        await outbox.emit(scope.organization_id, "account.created", {"account_id": account.id})
        return account

    # A retry with the same key (even a concurrent one) returns the first account.
    return await idempotency.create_once(
        scope.organization_id, "createAccount", idempotency_key, create, lambda pk: scope.get(Account, pk), request=data
    )


async def update_account(scope: Scope, account_id: UUID, version: int, data: dict) -> Account:
    scope.require("accounts:update")  # before validating: a read-only role learns nothing from its input
    problems = Problems()
    values = _clean_account(data, problems)
    if "owner_id" in data:
        values["owner_id"] = data["owner_id"]
        with problems:
            await _check_owner(scope, values["owner_id"])
    typed = await customfields.clean(scope, "account", data, problems, creating=False)
    problems.raise_if_any()
    async with in_transaction():
        account = await scope.get(Account, account_id, "update", field="id")
        matches = await duplicates.check(scope, values.get("phones"), values.get("emails"), exclude_account=account.id)
        changes = await update_versioned(account, version, values)
        changes.update(await customfields.save(typed, account.id))
        account.duplicate_matches = matches
        if {"phones", "emails", "tags"} & changes.keys():
            await _sync_identifiers(account)
        if {"name", "phones", "emails"} & changes.keys():
            await search_index.index(account)
        if changes:
            await audit.record(scope, "account.update", account, changes)
            await outbox.emit(
                scope.organization_id, "account.updated", {"account_id": account.id, "fields": list(changes)}
            )
    return account


async def delete_account(scope: Scope, account_id: UUID, version: int) -> Account:
    """Soft delete: the account disappears from lists and lookups but keeps its history."""
    async with in_transaction():
        account = await scope.get(Account, account_id, "delete", field="id")
        changes = await update_versioned(account, version, {"deleted_at": datetime.now(UTC)})
        await AccountIdentifier.filter(account_id=account.id).delete()
        await search_index.unindex(scope.organization_id, "account", [account.id])
        await audit.record(scope, "account.delete", account, changes)
        await outbox.emit(scope.organization_id, "account.deleted", {"account_id": account.id})
    return account


async def find_by_phone(scope: Scope, phone: str, *, via_contacts: bool = True) -> list[Account]:
    """The caller's accounts with this phone (any format), oldest first: who is calling, who is
    this marketplace buyer. Accounts that have the number themselves come first; only when none
    does, the company accounts with a contact person of that number (a buyer calling from their
    desk). Not a phone number: none."""
    return (await match_phone(scope, phone, via_contacts=via_contacts))[0]


async def match_phone(scope: Scope, phone: str, *, via_contacts: bool = True) -> tuple[list[Account], bool]:
    """``find_by_phone``, and whether the accounts were found through a contact person."""
    e164 = try_e164(phone)
    if e164 is None:
        return [], False
    ids = AccountIdentifier.filter(organization_id=scope.organization_id, kind="phone", value=e164)
    direct = (
        await scope.queryset(Account).filter(id__in=Subquery(ids.values("account_id"))).order_by("created_at", "id")
    )
    if direct or not via_contacts:
        return direct, False
    contacts = Contact.filter(
        organization_id=scope.organization_id,
        id__in=Subquery(
            ContactIdentifier.filter(organization_id=scope.organization_id, kind="phone", value=e164).values(
                "contact_id"
            )
        ),
    )
    companies = (
        await scope.queryset(Account)
        .filter(id__in=Subquery(contacts.values("account_id")))
        .order_by("created_at", "id")
    )
    return companies, bool(companies)


async def find_by_email(scope: Scope, email: str) -> list[Account]:
    """The caller's accounts with this e-mail address, on the account or on one of its contacts,
    oldest first: who wrote this e-mail. Not an address: none."""
    email = (email or "").strip().lower()
    if not EMAIL_RE.match(email) or len(email) > 254:
        return []
    own = AccountIdentifier.filter(organization_id=scope.organization_id, kind="email", value=email)
    found = await scope.queryset(Account).filter(id__in=Subquery(own.values("account_id"))).order_by("created_at", "id")
    if found:
        return found
    people = ContactIdentifier.filter(organization_id=scope.organization_id, kind="email", value=email)
    contacts = Contact.filter(organization_id=scope.organization_id, id__in=Subquery(people.values("contact_id")))
    return (
        await scope.queryset(Account)
        .filter(id__in=Subquery(contacts.values("account_id")))
        .order_by("created_at", "id")
    )


def _merge_lists(a: list, b: list) -> list:
    return list(dict.fromkeys([*a, *b]))


async def merge_accounts(scope: Scope, keep_id: UUID, keep_version: int, merge_id: UUID) -> Account:
    """Move everything of ``merge_id`` onto ``keep_id``; the duplicate is soft-deleted and
    points at the survivor, and both audit trails record the merge."""
    from server.accounts.merge import MOVERS  # each domain moves its own rows

    if keep_id == merge_id:
        raise UserInputError(ErrorCode.INVALID, _("Cannot merge an account into itself."), "mergeId")
    async with in_transaction():
        # Both rows are locked (in a fixed order, so two opposite merges cannot deadlock): of two
        # concurrent merges of one duplicate, the second then finds it deleted (NOT_FOUND) instead
        # of splitting its contacts and orders between two survivors.
        found = {}
        for pk in sorted({keep_id, merge_id}, key=str):
            if pk == keep_id:
                found[pk] = await scope.get(Account, keep_id, "update", field="id", for_update=True)
            else:
                found[pk] = await scope.get(Account, merge_id, "delete", field="mergeId", for_update=True)
        keep, dup = found[keep_id], found[merge_id]
        if keep.version != keep_version:
            raise version_conflict()
        moved = {}
        for name, mover in MOVERS.items():
            moved[name] = await mover(scope.organization_id, dup.id, keep.id)
        moved_values = await customfields.move_values(scope.organization_id, "account", dup.id, keep.id)
        if moved_values:  # the audit entry names it only when there was something to move
            moved["custom_field_values"] = moved_values
        changes = await update_versioned(
            keep,
            keep_version,
            {
                "phones": _merge_lists(keep.phones, dup.phones),
                "emails": _merge_lists(keep.emails, dup.emails),
                "addresses": _merge_lists(keep.addresses, dup.addresses),
                "tags": sorted(set(keep.tags) | set(dup.tags)),
                "custom_fields": {**dup.custom_fields, **keep.custom_fields},
            },
        )
        now = datetime.now(UTC)
        await Account.filter(id=dup.id).update(
            deleted_at=now, updated_at=now, merged_into_id=keep.id, version=dup.version + 1, phones=[], emails=[]
        )
        await AccountIdentifier.filter(account_id=dup.id).delete()
        await _sync_identifiers(keep)
        await search_index.unindex(scope.organization_id, "account", [dup.id])
        await search_index.index(keep)
        # The orders moved: both accounts' figures follow them.
        for account_id in (keep.id, dup.id):
            await figures.refresh_account(scope.organization_id, account_id, scope.organization.currency)
        await audit.record(
            scope, "account.merge", keep, {**changes, "merged": [None, str(dup.id)], "moved": [None, moved]}
        )
        await audit.record(scope, "account.merged_into", dup, {"merged_into": [None, str(keep.id)]})
        await outbox.emit(scope.organization_id, "account.merged", {"account_id": keep.id, "merged_id": dup.id})
    return keep


# -- contacts ---------------------------------------------------------------


def _clean_contact(data: dict, problems: Problems) -> dict:
    values: dict = {}
    with problems:
        if "name" in data:
            values["name"] = required_text(data["name"], "name", 300)
    with problems:
        if "position" in data:
            values["position"] = limited_text(data["position"], "position", 200) or None
    with problems:
        if "phones" in data:
            values["phones"] = normalize_phones(data["phones"] or [])
    with problems:
        if "emails" in data:
            values["emails"] = normalize_emails(data["emails"] or [])
    return values


async def create_contact(scope: Scope, account_id: UUID, data: dict, idempotency_key: str | None = None) -> Contact:
    scope.require("accounts:create")
    problems = Problems()
    with problems:
        idempotency.check_key(idempotency_key)
    values = _clean_contact(data, problems)
    if "name" not in data:
        problems.add(ErrorCode.REQUIRED, _("name is required."), "name")
    typed = await customfields.clean(scope, "contact", data, problems, creating=True)
    problems.raise_if_any()

    async def create() -> Contact:
        account = await scope.get(Account, account_id, "create", field="accountId")
        matches = await duplicates.check(scope, values.get("phones"), values.get("emails"), exclude_account=account.id)
        contact = await Contact.create(organization_id=scope.organization_id, account_id=account.id, **values)
        contact.duplicate_matches = matches
        await duplicates.sync_contact_identifiers(contact)
        typed_changes = await customfields.save(typed, contact.id)
        await search_index.index(contact)
        await audit.record(
            scope,
            "contact.create",
            contact,
            {**{k: [None, v] for k, v in snapshot(contact, CONTACT_FIELDS).items()}, **typed_changes},
        )
        return contact

    return await idempotency.create_once(
        scope.organization_id,
        "createContact",
        idempotency_key,
        create,
        lambda pk: scope.get(Contact, pk),
        request={"account_id": account_id, **data},
    )


async def update_contact(scope: Scope, contact_id: UUID, version: int, data: dict) -> Contact:
    scope.require("accounts:update")
    problems = Problems()
    values = _clean_contact(data, problems)
    typed = await customfields.clean(scope, "contact", data, problems, creating=False)
    problems.raise_if_any()
    async with in_transaction():
        contact = await scope.get(Contact, contact_id, "update", field="id")
        matches = await duplicates.check(
            scope,
            values.get("phones"),
            values.get("emails"),
            exclude_account=contact.account_id,
            exclude_contact=contact.id,
        )
        changes = await update_versioned(contact, version, values)
        changes.update(await customfields.save(typed, contact.id))
        contact.duplicate_matches = matches
        if {"phones", "emails"} & changes.keys():
            await duplicates.sync_contact_identifiers(contact)
        if changes:
            await search_index.index(contact)
            await audit.record(scope, "contact.update", contact, changes)
    return contact


async def merge_contacts(scope: Scope, keep_id: UUID, keep_version: int, merge_id: UUID) -> Contact:
    """Move the deals and tickets of contact ``merge_id`` onto ``keep_id`` (same account),
    combine their phones and e-mails, delete the duplicate; both audit trails record it."""
    from server.accounts.merge import CONTACT_MOVERS

    scope.require("accounts:update")
    scope.require("accounts:delete")  # the duplicate is deleted
    if keep_id == merge_id:
        raise UserInputError(ErrorCode.INVALID, _("Cannot merge a contact into itself."), "mergeId")
    async with in_transaction():
        # Lock both rows in a fixed order (as merge_accounts does) with a plain query: the scoped
        # one joins the account, and PostgreSQL locks no outer-joined rows. Then check access.
        for pk in sorted({keep_id, merge_id}, key=str):
            await Contact.filter(id=pk, organization_id=scope.organization_id).select_for_update().first()
        keep = await scope.get(Contact, keep_id, "update", field="id")
        dup = await scope.get(Contact, merge_id, "delete", field="mergeId")
        if keep.version != keep_version:
            raise version_conflict()
        if keep.account_id != dup.account_id:
            # A deal or ticket must stay with its account: merge the accounts first.
            raise UserInputError(
                ErrorCode.INVALID, _("The contacts belong to different accounts: merge the accounts first."), "mergeId"
            )
        moved = {name: await mover(scope.organization_id, dup.id, keep.id) for name, mover in CONTACT_MOVERS.items()}
        moved_values = await customfields.move_values(scope.organization_id, "contact", dup.id, keep.id)
        if moved_values:  # the audit entry names it only when there was something to move
            moved["custom_field_values"] = moved_values
        changes = await update_versioned(
            keep,
            keep_version,
            {
                "phones": _merge_lists(keep.phones, dup.phones),
                "emails": _merge_lists(keep.emails, dup.emails),
                "position": keep.position or dup.position,
            },
        )
        await duplicates.sync_contact_identifiers(keep)
        await audit.record(
            scope, "contact.merge", keep, {**changes, "merged": [None, str(dup.id)], "moved": [None, moved]}
        )
        await audit.record(
            scope,
            "contact.merged_into",
            dup,
            {
                "merged_into": [None, str(keep.id)],
                **{k: [v, None] for k, v in snapshot(dup, CONTACT_FIELDS).items()},
            },
        )
        await ContactIdentifier.filter(contact_id=dup.id).delete()
        await dup.delete()
        await search_index.unindex(scope.organization_id, "contact", [dup.id])
        await search_index.index(keep)  # found by the phones and e-mails it took over
        await outbox.emit(scope.organization_id, "contact.merged", {"contact_id": keep.id, "merged_id": dup.id})
    return keep


async def delete_contact(scope: Scope, contact_id: UUID, version: int) -> Contact:
    async with in_transaction():
        contact = await scope.get(Contact, contact_id, "delete", field="id")
        if contact.version != version:
            raise version_conflict()
        await audit.record(
            scope, "contact.delete", contact, {k: [v, None] for k, v in snapshot(contact, CONTACT_FIELDS).items()}
        )
        await ContactIdentifier.filter(contact_id=contact.id).delete()
        await customfields.delete_values("contact", [contact.id])
        await contact.delete()
        await search_index.unindex(scope.organization_id, "contact", [contact.id])
    return contact
