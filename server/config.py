"""Typed settings: settings/defaults.toml, then the profile file, then environment variables.

The profile is chosen with ``CRM_PROFILE`` (``test``, ``production``, ...) and read from
``settings/<profile>.toml``; any field can be overridden by an environment variable of the
same name in upper case (``DATABASE_URL``, ``REDIS_URL``, ``SECRET_KEY``, ``MAX_QUERY_DEPTH``...).
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

SETTINGS_DIR = Path(os.environ.get("CRM_SETTINGS_DIR", Path(__file__).resolve().parent.parent / "settings"))


def _profile_files() -> list[Path]:
    files = [SETTINGS_DIR / "defaults.toml"]
    profile = os.environ.get("CRM_PROFILE")
    if profile:
        path = SETTINGS_DIR / f"{profile}.toml"
        if not path.exists():
            raise FileNotFoundError(f"CRM_PROFILE={profile} but {path} does not exist")
        files.append(path)
    return [f for f in files if f.exists()]


DEFAULT_SECRET_KEY = "change-me"  # noqa: S105 - the placeholder of settings/defaults.toml
MIN_SECRET_KEY_LENGTH = 32


class InsecureSettings(RuntimeError):
    """The settings would run the server unprotected (outside debug and demo)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    database_url: str = "sqlite://crm.sqlite3"
    redis_url: str | None = None
    secret_key: str = Field(default="change-me", repr=False)
    # Previous SECRET_KEYs still accepted for reading plugin secrets during a rotation (docs/plugins.md).
    old_secret_keys: Annotated[list[str], NoDecode] = Field(default_factory=list, repr=False)
    # The address providers and customers reach this server at (webhook URLs, survey links in
    # messages); empty: the request's own address for webhooks, http://127.0.0.1:8000 for survey links.
    public_url: str = ""
    debug: bool = False
    # Inbound e-mail (docs/conversations.md#e-mail): `crm mail-in` accepts mail for
    # in+<token>@MAIL_IN_DOMAIN (the domain whose MX points at it) and files it in the inbox.
    mail_in_domain: str = ""
    mail_in_host: str = "127.0.0.1"
    mail_in_port: int = 2525
    mail_in_max_bytes: int = 10 * 1024 * 1024  # a larger message is refused with 552 at DATA
    # PEM files of the receiver's certificate and key: with both set it offers STARTTLS.
    mail_in_tls_cert: str = ""
    mail_in_tls_key: str = ""

    token_ttl_hours: int = 24 * 14
    # Failed logins allowed per window before RATE_LIMITED (server/auth/throttle.py), "count/period".
    login_failures_per_email: str = "10/15 minutes"
    login_failures_per_address: str = "100/15 minutes"
    rate_limit_namespace: str = "crm"  # prefix of the counters' keys in Redis
    # Calls one member may place with clickToCall per window (docs/telephony.md), "count/period".
    click_to_call_per_user: str = "10/minute"
    # Query cost a caller may spend per window on /graphql (docs/partners.md), "cost/period":
    # per credential (session, OAuth token, API key), per organization (all its callers; an
    # organization's rate_limit_per_minute overrides it), per anonymous client address.
    rate_limit_per_token: str = "100000/minute"  # noqa: S105 - a limit, not a secret
    rate_limit_per_organization: str = "300000/minute"
    rate_limit_per_address: str = "20000/minute"

    max_query_depth: int = 12
    max_query_tokens: int = 2000
    max_aliases: int = 15
    max_query_cost: int = 50_000
    max_page_size: int = 100
    default_page_size: int = 20
    # Largest request body /graphql reads (bytes); a larger one gets HTTP 413 (docs/api.md).
    max_request_bytes: int = 1024 * 1024

    # CORS (docs/api.md): the origins of browser apps on other sites that may call the API.
    # Exact origins ("https://app.example.com"), comma separated in the environment; empty: none.
    cors_allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # A regular expression an origin may match instead, e.g. "https://.*\\.example\\.com".
    cors_allowed_origin_regex: str | None = None
    # Answer known read operations from a cached plan instead of field-by-field execution
    # (server/graphql/fastpath, docs/fastpath.md); FAST_PATH=false always uses strawberry.
    fast_path: bool = True
    # On PostgreSQL, answer those operations (once planned) in front of the HTTP view, with the
    # caller read in one statement (server/graphql/lean.py); LEAN_LANE=false: through the view.
    lean_lane: bool = True
    # On PostgreSQL, planned answers are written by the database as JSON, one statement per root
    # field (server/graphql/fastpath/sqljson.py); SQL_JSON=false: written by Python from rows.
    sql_json: bool = True
    # Automatic persisted queries (docs/api.md): documents registered by hash are shared through
    # Redis (REDIS_URL) or the database, with an in-process LRU of this many in front, and
    # forgotten after this many days (clients then register them again, transparently).
    persisted_queries_cache_size: int = 1000
    persisted_query_days: int = 30
    persisted_query_max_chars: int = 100_000
    # Exports (docs/import-export.md): how long a finished file can be downloaded before housekeeping
    # deletes it; the size of the pieces it is stored in (in the database, so any process serves it).
    export_link_hours: float = 24
    export_chunk_bytes: int = 1_048_576

    # Attachments (docs/attachments.md): files on accounts, orders, deals, tickets and conversation
    # messages. The largest file accepted (bytes); the types accepted, as sniffed from the bytes
    # (comma separated in the environment); how long a download link works (seconds).
    attachment_max_bytes: int = 20 * 1024 * 1024
    attachment_types: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [
            "image/jpeg",
            "image/png",
            "image/gif",
            "image/webp",
            "image/heic",
            "application/pdf",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.oasis.opendocument.text",
            "application/vnd.oasis.opendocument.spreadsheet",
            "application/zip",
            "text/plain",
        ]
    )
    attachment_link_seconds: int = 300
    # Where the bytes go: a directory on local disk (the default), or an S3-compatible bucket
    # when ATTACHMENTS_S3_BUCKET is set (AWS, MinIO, Ceph...; the endpoint URL for non-AWS ones).
    attachments_dir: str = "var/attachments"
    attachments_s3_bucket: str = ""
    attachments_s3_prefix: str = "attachments/"
    attachments_s3_endpoint_url: str = ""
    attachments_s3_region: str = "us-east-1"
    attachments_s3_access_key_id: str = Field(default="", repr=False)
    attachments_s3_secret_access_key: str = Field(default="", repr=False)

    demo: bool = False
    # Lets plugins call http:// and loopback/private addresses (server/plugins/egress.py): for the
    # provider simulators of the tests and the demo only. Never in production (SSRF).
    allow_local_providers: bool = False
    # Addresses of reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed
    # (`crm serve`), comma separated, "*" for any; empty: none, the peer address is the client.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["127.0.0.1", "::1"])

    # Live events over websockets (docs/realtime.md).
    ws_heartbeat_seconds: float = 15.0  # the server pings this often
    ws_recheck_seconds: float = 60.0  # a connection's credential is checked again this often
    ws_max_connections_per_credential: int = 10  # per API process
    ws_max_subscriptions_per_connection: int = 20
    ws_connection_init_timeout_seconds: float = 10.0

    # Background jobs (docs/jobs.md).
    job_max_tries: int = 5
    job_retry_base_seconds: float = 5.0
    job_retry_max_seconds: float = 600.0
    job_timeout_seconds: int = 120
    relay_interval_seconds: float = 1.0
    # After a pass that found events (fewer than a full batch), wait this long before the next:
    # a stream of events then comes in passes big enough to batch (docs/jobs.md, "Batches").
    relay_linger_seconds: float = 0.5
    worker_concurrency: int = 10
    # Batching (docs/jobs.md, "Batches"): events the relay claims per pass; from
    # JOB_BATCH_MIN events of one pass on, a batch handler gets them JOB_BATCH_SIZE per job.
    relay_batch_size: int = 200
    job_batch_min: int = 16
    job_batch_size: int = 50
    # Provider calls of one plugin installation running at once in one worker process.
    provider_concurrency: int = 50
    arq_queue_name: str = "crm:queue"
    # `crm worker` (docs/jobs.md, "Running workers under a supervisor").
    worker_lease_seconds: float = 10.0  # a killed worker's jobs run again this long after
    worker_reconnect_min_seconds: float = 1.0  # backoff while Redis or the database is away...
    worker_reconnect_max_seconds: float = 30.0  # ...doubling (jittered) up to this
    worker_health_file: str = ""  # heartbeat file for `crm worker health`; empty: none
    worker_health_port: int = 0  # GET /health and /live on this port; 0: none
    worker_health_host: str = "127.0.0.1"  # 0.0.0.0 for a Kubernetes httpGet probe

    # Partner webhooks (docs/webhooks.md): how long a receiver may take to answer, how many
    # messages in a row may fail (each after three days of retries) before the endpoint is
    # disabled, and how long delivery records are kept (deleted this many rows at a time).
    webhook_timeout_seconds: float = 10.0
    # Requests to one endpoint in flight at once in one worker process (a batch of deliveries).
    webhook_concurrency: int = 50
    webhook_disable_after_failed: int = 3
    webhook_retention_days: int = 30
    webhook_cleanup_batch: int = 1000

    @field_validator("old_secret_keys", "trusted_proxies", "cors_allowed_origins", "attachment_types", mode="before")
    @classmethod
    def _comma_separated(cls, value):
        # OLD_SECRET_KEYS="key1,key2" in the environment; a TOML list works too.
        if isinstance(value, str):
            return [key.strip() for key in value.split(",") if key.strip()]
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Later TOML files win over earlier ones, so the profile overrides the defaults.
        toml_sources = [TomlConfigSettingsSource(settings_cls, toml_file=path) for path in reversed(_profile_files())]
        return (init_settings, env_settings, *toml_sources)

    def secret_key_problem(self) -> str | None:
        """Why SECRET_KEY cannot protect anything (None when it can). Debug and demo runs may
        keep the placeholder; ``require_secret_key`` refuses it everywhere else."""
        if self.debug or self.demo:
            return None
        if not self.secret_key or self.secret_key == DEFAULT_SECRET_KEY:
            return "SECRET_KEY is not set (it is the placeholder 'change-me')"
        if len(self.secret_key) < MIN_SECRET_KEY_LENGTH:
            return f"SECRET_KEY is shorter than {MIN_SECRET_KEY_LENGTH} characters"
        return None

    def require_secret_key(self) -> None:
        problem = self.secret_key_problem()
        if problem:
            raise InsecureSettings(
                f"{problem}. It derives the key that encrypts plugin secrets: set SECRET_KEY to a long "
                'random value, e.g. the output of `python -c "import secrets; print(secrets.token_urlsafe(32))"`, '
                "and keep it (see docs/operations.md)."
            )

    @cached_property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://", "asyncpg://"))
