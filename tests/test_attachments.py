"""Attachments: real GraphQL multipart uploads with httpx against the app, downloads through the
signed link, who sees what (another organization, a role without the row, a role that may read
but not change), the size and type limits judged from the bytes, expired and altered links,
files removed with their attachment or their object, the CSRF rule for multipart requests, the
full export listing them, and the same on an S3-compatible server (moto's, over real HTTP on
loopback). Run on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import io
import json
import socket
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from tortoise.transactions import in_transaction

from server.app import create_app
from server.attachments import files, service
from server.attachments.models import Attachment
from server.auth.scope import Scope
from server.conversations import service as conversations
from server.conversations.models import ConversationMessage
from server.graphql import ids
from server.jobs.inprocess import run_until_idle
from server.organizations.models import Organization
from server.plugins.types import InboundMessage
from tests.figures_helpers import new_account, order

# A real 1x1 PNG, and a PDF header: what the bytes say, whatever the client claims.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
MB = 1024 * 1024

ATTACH = """mutation($i: AttachFileInput!) { attachFile(input: $i) {
  attachment { id name size contentType createdAt url urlExpiresAt uploadedBy { email } }
  errors { field code message } } }"""
DELETE = """mutation($i: DeleteAttachmentInput!) { deleteAttachment(input: $i) { deletedId errors { field code message } } }"""
ORDER = "query($id: ID!) { order(id: $id) { id attachments { id name size contentType url uploadedBy { email } } } }"
TICKET = "query($id: ID!) { ticket(id: $id) { id version attachments { id name } } }"
ACCOUNT = "query($id: ID!) { account(id: $id) { id attachments { id name } } }"
CREATE_TICKET = "mutation($i: CreateTicketInput!) { createTicket(input: $i) { ticket { id version } errors { code } } }"
DELETE_TICKET = "mutation($i: DeleteTicketInput!) { deleteTicket(input: $i) { deletedTicketId errors { code } } }"
CONVERSATION = "query($id: ID!) { conversation(id: $id) { messages { id text files { name contentType url } } } }"
AUDIT = """query($w: AuditEntryWhere) { auditEntries(first: 20, where: $w) { edges { node { action entityType
  changes } } } }"""


def headers(member, lang: str = "en", preflight: bool = True) -> dict:
    out = {"Authorization": f"Bearer {member.token}", "X-Organization": member.org, "Accept-Language": lang}
    if preflight:
        out["Apollo-Require-Preflight"] = "true"
    return out


async def upload(client, member, object_id, content: bytes, name: str = "photo.png", claimed: str = "image/png", **kw):
    """The GraphQL multipart request a client (apollo-upload-client...) sends: operations, map, file."""
    operations = {"query": ATTACH, "variables": {"i": {"objectId": object_id, "file": None}}}
    return await client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.i.file"]})},
        files={"0": (name, content, claimed)},
        headers=headers(member, **kw),
    )


async def attached(client, member, object_id, content: bytes, name: str = "photo.png", **kw) -> dict:
    response = await upload(client, member, object_id, content, name, **kw)
    assert response.status_code == 200, response.text
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]["attachFile"]


async def gql(client, member, query: str, variables: dict, lang: str = "en") -> dict:
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers(member, lang, preflight=False)
    )
    return response.json()


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.fixture
async def app_client(database, tmp_path):
    """The app with attachments on local disk in a fresh folder and a 1 MB limit."""
    settings = database.model_copy(update={"attachments_dir": str(tmp_path / "files"), "attachment_max_bytes": MB})
    app = create_app(settings, manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        client.settings = settings
        client.root = tmp_path / "files"
        yield client


@pytest.fixture
async def shop(api, tenants):
    t = await tenants.create(("owner", "sales", "analyst", "support"))
    t.account = await new_account(t.owner, api, "Олена Коваль", phones=["+380671112233"])
    t.order = (await order(t.owner, api, t.account, "120"))["id"]
    return t


# -- uploading and downloading --------------------------------------------------------------


async def test_a_multipart_upload_is_stored_listed_on_its_order_and_downloads_through_its_link(app_client, shop):
    # The client says octet-stream and the name is a path with characters no file system takes.
    payload = await attached(
        app_client, shop.owner, shop.order, PNG, name="../../etc/Фото<посилки>.png", claimed="application/octet-stream"
    )
    assert payload["errors"] == []
    attachment = payload["attachment"]
    assert attachment["name"] == "Фотопосилки.png"
    assert attachment["contentType"] == "image/png" and attachment["size"] == len(PNG)
    assert attachment["uploadedBy"]["email"] == shop.owner.email
    assert attachment["url"].startswith("/files/")

    listed = (await gql(app_client, shop.owner, ORDER, {"id": shop.order}))["data"]["order"]["attachments"]
    assert [a["id"] for a in listed] == [attachment["id"]]

    response = await app_client.get(listed[0]["url"])  # no headers: the link is the credential
    assert response.status_code == 200 and response.content == PNG
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''%D0%A4%D0%BE%D1%82%D0%BE" in disposition

    # The bytes are on disk under the organization, named by id, not by what the client sent.
    [path] = stored_files(app_client.root)
    assert path.read_bytes() == PNG and "etc" not in str(path) and "Фото" not in str(path)

    audit = await gql(app_client, shop.owner, AUDIT, {"w": {"action": {"eq": "attachment.add"}}})
    [entry] = [e["node"] for e in audit["data"]["auditEntries"]["edges"]]
    assert entry["entityType"] == "Order" and entry["changes"]["attachments"][1]["name"] == "Фотопосилки.png"


async def test_files_on_accounts_tickets_and_conversation_messages(app_client, shop, api):
    await attached(app_client, shop.owner, shop.account, PDF, name="договір.pdf")
    account = (await gql(app_client, shop.owner, ACCOUNT, {"id": shop.account}))["data"]["account"]
    assert [a["name"] for a in account["attachments"]] == ["договір.pdf"]

    ticket = (await shop.support.data(api, CREATE_TICKET, {"i": {"subject": "Пошкоджена посилка"}}))["createTicket"]
    await attached(app_client, shop.support, ticket["ticket"]["id"], PNG, name="parcel.png")
    listed = (await gql(app_client, shop.support, TICKET, {"id": ticket["ticket"]["id"]}))["data"]["ticket"]
    assert [a["name"] for a in listed["attachments"]] == ["parcel.png"]

    organization = await Organization.get(slug=shop.slug)
    async with in_transaction():
        await conversations.receive_message(
            Scope.for_app(organization, "test", "plugin-webhook"),
            None,
            "test",
            InboundMessage(channel="telegram", address="42", provider_message_id="m1", text="Ось фото"),
        )
    message = await ConversationMessage.get(organization_id=organization.id, text="Ось фото")
    message_id = ids.encode("ConversationMessage", message.id)
    await attached(app_client, shop.support, message_id, PNG, name="damage.png")
    conversation_id = ids.encode("Conversation", message.conversation_id)
    data = await gql(app_client, shop.support, CONVERSATION, {"id": conversation_id})
    [shown] = data["data"]["conversation"]["messages"]
    assert [f["name"] for f in shown["files"]] == ["damage.png"]
    assert (await app_client.get(shown["files"][0]["url"])).content == PNG


# -- who sees what ------------------------------------------------------------------------------


async def test_only_callers_who_can_read_the_object_see_its_files(app_client, shop, tenants):
    payload = await attached(app_client, shop.owner, shop.order, PDF, name="invoice.pdf")
    attachment_id = payload["attachment"]["id"]
    other = (await tenants.create(("owner",))).owner

    # Another organization: the order does not exist for them, nor may they add or delete files.
    assert (await gql(app_client, other, ORDER, {"id": shop.order}))["data"]["order"] is None
    refused = (await attached(app_client, other, shop.order, PDF))["errors"]
    assert [(e["field"], e["code"]) for e in refused] == [("objectId", "NOT_FOUND")]
    deleted = (await gql(app_client, other, DELETE, {"i": {"id": attachment_id}}))["data"]["deleteAttachment"]
    assert [e["code"] for e in deleted["errors"]] == ["NOT_FOUND"]

    # Sales sees only their own orders: the owner's order and its files are not theirs.
    assert (await gql(app_client, shop.sales, ORDER, {"id": shop.order}))["data"]["order"] is None
    refused = (await attached(app_client, shop.sales, shop.order, PDF))["errors"]
    assert [(e["field"], e["code"]) for e in refused] == [("objectId", "NOT_FOUND")]

    # The analyst reads every order, so sees the file, but may not attach or delete.
    listed = (await gql(app_client, shop.analyst, ORDER, {"id": shop.order}))["data"]["order"]["attachments"]
    assert [a["name"] for a in listed] == ["invoice.pdf"]
    body = (await upload(app_client, shop.analyst, shop.order, PDF)).json()
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    body = await gql(app_client, shop.analyst, DELETE, {"i": {"id": attachment_id}})
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    assert await Attachment.filter(id=ids.decode(attachment_id)[1], deleted_at=None).exists()
    assert len(stored_files(app_client.root)) == 1  # nothing refused was stored


# -- limits -----------------------------------------------------------------------------------


async def test_size_and_type_are_judged_from_the_bytes_with_every_problem_reported_in_english_and_ukrainian(
    app_client, shop
):
    too_big = PNG + b"\x00" * (MB + 1 - len(PNG))
    errors = (await attached(app_client, shop.owner, shop.order, too_big))["errors"]
    assert errors == [{"field": "file", "code": "TOO_LARGE", "message": "The file is larger than 1 MB."}]

    # An executable named and declared as a photo.
    errors = (await attached(app_client, shop.owner, shop.order, EXE, name="photo.jpg", claimed="image/jpeg"))["errors"]
    assert errors == [
        {
            "field": "file",
            "code": "UNSUPPORTED_TYPE",
            "message": "Files of type application/x-msdownload are not accepted.",
        }
    ]

    # Bytes that show no known type, on an ID that is not an order: both problems at once, in Ukrainian.
    unknown = bytes(range(0, 32)) * 10
    bad_id = ids.encode("Pipeline", ids.decode(shop.order)[1])
    errors = (await attached(app_client, shop.owner, bad_id, unknown, lang="uk"))["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("objectId", "INVALID"), ("file", "UNSUPPORTED_TYPE")]
    assert errors[1]["message"] == "Файли такого типу не приймаються."
    assert "клієнтів, замовлень, угод, звернень" in errors[0]["message"]

    errors = (await attached(app_client, shop.owner, shop.order, b"", lang="uk"))["errors"]
    assert [(e["code"], e["message"]) for e in errors] == [("INVALID", "Файл порожній.")]
    errors = (await attached(app_client, shop.owner, shop.order, too_big, lang="uk"))["errors"]
    assert [e["message"] for e in errors] == ["Файл більший за 1 МБ."]

    # Plain text is accepted (as text/plain), whatever the client claims.
    payload = await attached(
        app_client, shop.owner, shop.order, "Накладна 2045\n".encode(), name="note.html", claimed="text/html"
    )
    assert payload["attachment"]["contentType"] == "text/plain"
    assert len(stored_files(app_client.root)) == 1


async def test_a_body_over_the_upload_cap_is_refused_with_413_before_it_is_read_whole(app_client, shop):
    cap = app_client.settings.attachment_max_bytes + app_client.settings.max_request_bytes
    response = await upload(app_client, shop.owner, shop.order, PNG + b"\x00" * cap)
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"
    assert stored_files(app_client.root) == []


async def test_a_multipart_request_without_the_preflight_header_is_refused(app_client, shop):
    """What a plain HTML form on another site could send: multipart, no custom header."""
    response = await upload(app_client, shop.owner, shop.order, PNG, preflight=False)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST" and "Apollo-Require-Preflight" in error["message"]
    assert stored_files(app_client.root) == [] and not await Attachment.filter(object_id=ids.decode(shop.order)[1])
    # X-Apollo-Operation-Name will do as well.
    operations = {"query": ATTACH, "variables": {"i": {"objectId": shop.order, "file": None}}}
    response = await app_client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.i.file"]})},
        files={"0": ("a.png", PNG, "image/png")},
        headers={**headers(shop.owner, preflight=False), "X-Apollo-Operation-Name": "Attach"},
    )
    assert response.json()["data"]["attachFile"]["errors"] == []


# -- links ------------------------------------------------------------------------------------


async def test_expired_and_altered_links_are_refused(app_client, shop):
    payload = await attached(app_client, shop.owner, shop.order, PDF, name="invoice.pdf")
    url = payload["attachment"]["url"]
    expires_at = datetime.fromisoformat(payload["attachment"]["urlExpiresAt"])
    assert timedelta(seconds=0) < expires_at - datetime.now(UTC) <= timedelta(seconds=300)
    assert (await app_client.get(url)).status_code == 200

    encoded, expires, signature = url.removeprefix("/files/").split(".")
    tampered_signature = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    later = str(int(expires) + 3600)
    other = await attached(app_client, shop.owner, shop.order, PNG)
    other_encoded = other["attachment"]["url"].removeprefix("/files/").split(".")[0]
    for bad in (
        f"/files/{encoded}.{expires}.{tampered_signature}",  # signature altered
        f"/files/{encoded}.{later}.{signature}",  # expiry pushed back
        f"/files/{other_encoded}.{expires}.{signature}",  # another file's id under this signature
        f"/files/{encoded}",
        "/files/garbage",
    ):
        response = await app_client.get(bad)
        assert response.status_code == 404, bad
        assert response.json()["code"] == "NOT_FOUND" and b"%PDF" not in response.content

    attachment = await Attachment.get(id=ids.decode(payload["attachment"]["id"])[1])
    old_url, _ = service.signed_path(app_client.settings, attachment, now=datetime.now(UTC) - timedelta(minutes=6))
    response = await app_client.get(old_url, headers={"Accept-Language": "uk"})
    assert response.status_code == 404 and "закінчився" in response.json()["error"]


# -- removing -----------------------------------------------------------------------------------


async def test_deleting_an_attachment_removes_its_bytes_and_its_link_stops_working(app_client, shop):
    payload = await attached(app_client, shop.owner, shop.order, PDF, name="invoice.pdf")
    url, attachment_id = payload["attachment"]["url"], payload["attachment"]["id"]
    assert len(stored_files(app_client.root)) == 1

    deleted = (await gql(app_client, shop.owner, DELETE, {"i": {"id": attachment_id}}))["data"]["deleteAttachment"]
    assert deleted == {"deletedId": attachment_id, "errors": []}
    assert stored_files(app_client.root) == []
    assert (await app_client.get(url)).status_code == 404
    assert (await gql(app_client, shop.owner, ORDER, {"id": shop.order}))["data"]["order"]["attachments"] == []
    again = (await gql(app_client, shop.owner, DELETE, {"i": {"id": attachment_id}}))["data"]["deleteAttachment"]
    assert [e["code"] for e in again["errors"]] == ["NOT_FOUND"]
    audit = await gql(app_client, shop.owner, AUDIT, {"w": {"action": {"eq": "attachment.delete"}}})
    assert [e["node"]["entityType"] for e in audit["data"]["auditEntries"]["edges"]] == ["Order"]


async def test_deleting_the_object_removes_its_files(app_client, shop, api, database):
    ticket = (await shop.support.data(api, CREATE_TICKET, {"i": {"subject": "Розбита чашка"}}))["createTicket"]
    payload = await attached(app_client, shop.support, ticket["ticket"]["id"], PNG)
    url = payload["attachment"]["url"]
    assert len(stored_files(app_client.root)) == 1

    version = ticket["ticket"]["version"]
    result = await shop.support.data(api, DELETE_TICKET, {"i": {"id": ticket["ticket"]["id"], "version": version}})
    assert result["deleteTicket"]["errors"] == []
    assert (await app_client.get(url)).status_code == 404  # at once, before any job ran
    await run_until_idle(app_client.settings)
    assert stored_files(app_client.root) == []
    assert not await Attachment.filter(id=ids.decode(payload["attachment"]["id"])[1]).exists()


MERGE = """mutation($i: MergeAccountsInput!) { mergeAccounts(input: $i) { account { id } errors { code } } }"""
VERSION = "query($id: ID!) { account(id: $id) { version } }"


async def test_merging_accounts_keeps_the_merged_accounts_files_on_the_one_kept(app_client, shop, api):
    duplicate = await new_account(shop.owner, api, "Олена К.", phones=["+380671112299"])
    payload = await attached(app_client, shop.owner, duplicate, PDF, name="договір.pdf")
    version = (await shop.owner.data(api, VERSION, {"id": shop.account}))["account"]["version"]
    merged = await shop.owner.data(api, MERGE, {"i": {"id": shop.account, "version": version, "mergeId": duplicate}})
    assert merged["mergeAccounts"]["errors"] == []
    await run_until_idle(app_client.settings)
    account = (await gql(app_client, shop.owner, ACCOUNT, {"id": shop.account}))["data"]["account"]
    assert [a["id"] for a in account["attachments"]] == [payload["attachment"]["id"]]
    assert len(stored_files(app_client.root)) == 1


async def test_the_cleanup_job_removes_bytes_a_failed_removal_left(app_client, shop):
    payload = await attached(app_client, shop.owner, shop.order, PDF)
    attachment_id = ids.decode(payload["attachment"]["id"])[1]
    # As if storage failed right after the deleting transaction: marked, bytes still there.
    await Attachment.filter(id=attachment_id).update(deleted_at=datetime.now(UTC))
    assert len(stored_files(app_client.root)) == 1
    result = await service.cleanup(app_client.settings)
    assert result["removed"] >= 1
    assert stored_files(app_client.root) == [] and not await Attachment.filter(id=attachment_id).exists()


# -- the full export ---------------------------------------------------------------------------


async def test_the_full_export_lists_attachments_without_their_bytes(app_client, shop, api):
    await attached(app_client, shop.owner, shop.order, PDF, name="invoice.pdf")
    started = await shop.owner.data(api, "mutation { startOrganizationExport { export { id } errors { code } } }")
    export_id = started["startOrganizationExport"]["export"]["id"]
    await run_until_idle(app_client.settings)
    response = await app_client.get(f"/exports/{export_id}/download", headers=headers(shop.owner, preflight=False))
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        rows = [json.loads(line) for line in archive.read("attachment.jsonl").splitlines()]
    [row] = rows
    assert row["name"] == "invoice.pdf" and row["size_bytes"] == len(PDF) and row["content_type"] == "application/pdf"
    assert row["object_type"] == "Order" and row["object_id"] == str(ids.decode(shop.order)[1])
    assert b"%PDF" not in response.content


# -- names and types --------------------------------------------------------------------------


def test_names_are_made_safe_and_types_come_from_the_bytes():
    assert files.clean_name("C:\\Users\\x\\рахунок.pdf") == "рахунок.pdf"
    assert files.clean_name("../../.bashrc") == "bashrc"
    assert files.clean_name('a"b\r\nc.txt') == "abc.txt"
    assert files.clean_name("") == "file" and files.clean_name("...") == "file"
    assert len(files.clean_name("я" * 500 + ".pdf")) <= files.NAME_LENGTH
    assert files.sniff(PNG) == "image/png" and files.sniff(PDF) == "application/pdf"
    assert files.sniff("Привіт".encode()[:5]) == "text/plain"  # cut inside a letter
    assert files.sniff(b"\x00\x01\x02") is None


# -- S3 -----------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def s3_server():
    """moto's S3 server in a thread, on loopback: real HTTP, the S3 protocol as moto speaks it."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
async def s3_client(database, s3_server, tmp_path):
    settings = database.model_copy(
        update={
            "attachments_dir": str(tmp_path / "unused"),
            "attachments_s3_bucket": "crm-files",
            "attachments_s3_endpoint_url": s3_server,
            "attachments_s3_access_key_id": "test-key",
            "attachments_s3_secret_access_key": "test-secret",
        }
    )
    s3 = service.storage.S3Storage(settings)
    async with s3._client() as client:
        try:
            await client.create_bucket(Bucket="crm-files")
        except client.exceptions.BucketAlreadyOwnedByYou:
            pass
    app = create_app(settings, manage_db=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        client.settings, client.s3, client.root = settings, s3, tmp_path / "unused"
        yield client


async def _keys(s3) -> list[str]:
    async with s3._client() as client:
        listed = await client.list_objects_v2(Bucket="crm-files", Prefix="attachments/")
    return [o["Key"] for o in listed.get("Contents", [])]


async def test_on_s3_files_are_stored_in_the_bucket_served_through_the_link_and_removed(s3_client, shop):
    small = await attached(s3_client, shop.owner, shop.order, PDF, name="invoice.pdf")
    # Larger than one S3 part (8 MiB): sent as a multipart upload to the bucket.
    big_content = PNG + bytes(range(256)) * (9 * MB // 256)
    big = await attached(s3_client, shop.owner, shop.account, big_content, name="scan.png")
    assert small["errors"] == [] and big["errors"] == []

    keys = await _keys(s3_client.s3)
    organization = await Organization.get(slug=shop.slug)
    assert len(keys) == 2 and all(k.startswith(f"attachments/{organization.id}/") for k in keys)
    assert not s3_client.root.exists()  # nothing on local disk

    response = await s3_client.get(small["attachment"]["url"])
    assert response.status_code == 200 and response.content == PDF
    response = await s3_client.get(big["attachment"]["url"])
    assert response.status_code == 200 and response.content == big_content
    assert response.headers["content-length"] == str(len(big_content))

    deleted = await gql(s3_client, shop.owner, DELETE, {"i": {"id": big["attachment"]["id"]}})
    assert deleted["data"]["deleteAttachment"]["errors"] == []
    assert len(await _keys(s3_client.s3)) == 1
    assert (await s3_client.get(big["attachment"]["url"])).status_code == 404


async def test_an_anonymous_multipart_request_is_refused_before_its_files_are_read(app_client, shop):
    operations = {"query": ATTACH, "variables": {"i": {"objectId": shop.order, "file": None}}}
    response = await app_client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.i.file"]})},
        files={"0": ("photo.png", PNG, "image/png")},
        headers={"Apollo-Require-Preflight": "true", "Accept-Language": "uk"},
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["message"] == "Увійдіть, перш ніж завантажувати файли."
    assert stored_files(app_client.root) == []
