"""Worker settings, read once at start-up from the environment (and an optional ``.env``).

Nothing reads ``os.environ`` after start-up: the frozen ``Settings`` object is passed down explicitly.
Secrets are ``SecretStr`` so they never appear in a ``repr`` or a log line.

A secret that is *set* but empty, whitespace or shorter than :data:`MIN_SECRET_BYTES` is a configuration
error at start-up, naming the variable: ``ZENDESK_WEBHOOK_SECRET=`` in a deployment file must never turn
into a signing key that anybody can use (an HMAC with an empty key is still a valid HMAC).
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from handoff_core.policy.loader import default_policy_path

#: The built-in default policy shipped in the package; a user policy usually extends it.
DEFAULT_POLICY = default_policy_path()


def default_database_url() -> str:
    """``sqlite:///`` + ``$XDG_DATA_HOME/handoff-guard/handoff.sqlite3`` (``~/.local/share`` by default)."""
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return f"sqlite:///{Path(data_home).absolute() / 'handoff-guard' / 'handoff.sqlite3'}"


def default_knowledge_cache() -> Path:
    """``$XDG_DATA_HOME/handoff-guard/knowledge-cache`` (beside the default store): fitted coverage heads."""
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home).absolute() / "handoff-guard" / "knowledge-cache"


#: Shortest secret accepted (bytes, UTF-8). Zendesk, Slack and generated web-chat secrets are far longer.
MIN_SECRET_BYTES = 16
SECRET_FIELDS = (
    "zendesk_api_token",
    "zendesk_webhook_secret",
    "slack_bot_token",
    "slack_signing_secret",
    "webchat_secret",
)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
UNAUTHENTICATED_WARNING = (
    "LOCAL MODE IS UNAUTHENTICATED: no Zendesk, Slack or WEBCHAT_SECRET is set, so web chat answers"
    " anybody who can reach this port; keep it on 127.0.0.1"
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", frozen=True, extra="ignore")

    # Zendesk (all three of subdomain, email and token are needed for live mode)
    zendesk_subdomain: str | None = None
    zendesk_email: str | None = None
    zendesk_api_token: SecretStr | None = None
    zendesk_webhook_secret: SecretStr | None = None
    #: Seconds a Zendesk webhook signature stays valid (Zendesk documents no window; we pick 5 minutes).
    zendesk_signature_max_age: int = 300
    #: Seconds zenpy may spend sleeping on 429s for one call before giving up (then we retry later).
    zendesk_ratelimit_budget: float = 30.0
    zendesk_timeout: float = 10.0
    #: Zendesk user ids of the AI assistant (its comments are ``assistant`` messages), JSON list: [123, 456].
    zendesk_assistant_user_ids: tuple[int, ...] = ()

    # Slack
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_alert_channel: str | None = None
    slack_review_channel: str | None = None
    #: Base URL of the Slack Web API (tests point it at a local fake).
    slack_api_url: str = "https://slack.com/api/"

    # Web chat
    webchat_secret: SecretStr | None = None
    max_body_bytes: int = 256 * 1024
    #: Message analyses kept in memory so the next message of a conversation costs one message's work
    #: (about 15 KB each on average, 33 KB for a 2 KB message; 0 turns the cache off and every decision
    #: re-reads the transcript, deciding the same).
    analysis_cache_messages: int = Field(default=2_000, ge=0)
    #: ...and at most this many MB of them (estimated per record from its text: see
    #: ``connectors/worker/analyses.py``); with the other bounds it keeps a soaked worker near 150 MB.
    analysis_cache_mb: float = Field(default=3.0, ge=0)

    # Memory (glibc only; see connectors/worker/memory.py): malloc arenas the worker's threads may use
    # (0: glibc's default of 8 per core) and how often free heap pages go back to the system (0: never).
    malloc_arena_max: int = Field(default=2, ge=0, le=64)
    memory_trim_seconds: float = Field(default=60.0, ge=0)

    # Policy, knowledge, store
    handoff_policy: Path = DEFAULT_POLICY
    handoff_knowledge: Path | None = None
    #: Folder of fitted knowledge coverage heads, stored under a hash of the knowledge and the scorer
    #: settings so a start with the same knowledge reads the head instead of fitting it (connectors/knowledge_cache.py).
    handoff_knowledge_cache: Path = Field(default_factory=default_knowledge_cache)
    #: Default: one file in the user's data folder, so every command finds the same store from any folder
    #: (a relative ``sqlite:///var/x.sqlite3`` is relative to the current folder, as you wrote it).
    handoff_database_url: str = Field(default_factory=default_database_url)

    # Outbox
    outbox_max_attempts: int = 8
    outbox_poll_interval: float = 0.5
    outbox_concurrency: int = 4
    #: Quick tenacity attempts inside one run before the row is rescheduled (honouring Retry-After).
    outbox_inline_attempts: int = 3
    #: Longest single wait between inline attempts (a longer Retry-After reschedules the row instead).
    outbox_inline_wait_cap: float = 10.0
    #: Durable backoff between runs: base * 2**(attempt-1), capped, never below Retry-After.
    outbox_backoff_base: float = 2.0
    outbox_backoff_cap: float = 600.0
    #: A claimed row is reclaimed by another run if its worker dies; renewed while the action runs.
    outbox_lease_seconds: float = 30.0
    #: Zendesk actions per minute shared by every replica (0: no budget of our own; 429s still pause the
    #: Zendesk lane for every replica). Each action makes a few API calls: keep well under the plan limit.
    zendesk_actions_per_minute: int = 0

    #: No longer read: the weekly review's schedule is ``review.weekly.schedule`` in the policy. Kept only so
    #: that setting it makes /readyz say so instead of being ignored in silence.
    review_schedule: str | None = None

    # Decisions run in a bounded thread pool, each within a time budget (seconds, waiting included).
    decision_workers: int = Field(default=2, ge=1, le=64)
    decision_budget_seconds: float = Field(default=2.0, gt=0)
    #: Longest expected wait for a decision slot (seconds) a web-chat message is queued for; beyond it the
    #: message is answered 503 + Retry-After at once (the Zendesk inbox always queues). Bounds a served
    #: request's wait under overload; docs/performance.md says how the default was chosen.
    decision_max_wait_seconds: float = Field(default=0.05, ge=0)
    #: Decisions in this many forked processes instead of threads, each conversation always in the same one
    #: (connectors/worker/processes.py): the event loop keeps its core, decisions use the others. Unset: one
    #: per usable core but one (at most 4; 0 on a single core); 0: threads (``DECISION_WORKERS``) as before.
    decision_processes: int | None = Field(default=None, ge=0, le=64)

    # Privacy: raw conversation text (needed to decide the next turn) is kept this many days, then purged
    # (automatically once a day, or with ``handoff purge``). Everything else is stored redacted.
    raw_retention_days: float = Field(default=30.0, ge=0)
    #: Let web chat hand off to an existing Zendesk ticket it did not create (``context.ticket_id``).
    #: Off: a web-chat caller could otherwise tag and annotate any customer's ticket.
    webchat_foreign_tickets: bool = False

    host: str = "127.0.0.1"
    port: int = 8000
    #: Local mode has no authentication; binding it to a non-loopback HOST needs this explicit flag.
    allow_unauthenticated_network: bool = False
    log_level: str = "info"

    @field_validator(*SECRET_FIELDS, mode="after")
    @classmethod
    def _usable_secret(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None:
            return None
        name = (info.field_name or "secret").upper()
        raw = value.get_secret_value()
        if not raw.strip():
            raise ValueError(f"{name} is set but empty; set a real secret or remove the variable")
        if len(raw.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"{name} is shorter than {MIN_SECRET_BYTES} bytes; use the full secret")
        return value

    @property
    def zendesk_live(self) -> bool:
        return bool(self.zendesk_subdomain and self.zendesk_email and self.zendesk_api_token)

    @property
    def slack_live(self) -> bool:
        return bool(self.slack_bot_token and self.slack_signing_secret)

    @property
    def database_is_postgres(self) -> bool:
        return self.handoff_database_url.startswith(("postgresql://", "postgres://"))

    @property
    def local_mode(self) -> bool:
        return not (self.zendesk_live or self.slack_live)

    @property
    def unauthenticated(self) -> bool:
        """Local mode with no WEBCHAT_SECRET: web chat answers anybody who can reach the port."""
        return self.local_mode and self.webchat_secret is None

    def bind_problem(self, host: str) -> str | None:
        """Why binding ``host`` is refused: an unauthenticated worker on a network interface."""
        loopback = host in LOOPBACK_HOSTS or host.startswith("127.")
        if not self.unauthenticated or loopback or self.allow_unauthenticated_network:
            return None
        return (
            f"local mode has no authentication and HOST={host} is not a loopback address: anybody on the"
            " network could use web chat. Bind 127.0.0.1, set WEBCHAT_SECRET, or set"
            " ALLOW_UNAUTHENTICATED_NETWORK=true if you really mean it"
        )

    @property
    def database_path(self) -> Path:
        """The SQLite file named by ``HANDOFF_DATABASE_URL`` (``sqlite:///relative`` or ``sqlite:////abs``)."""
        url = self.handoff_database_url
        prefix = "sqlite:///"
        if not url.startswith(prefix):
            raise ValueError(
                f"this needs the SQLite store: HANDOFF_DATABASE_URL must start with {prefix!r},"
                f" got {url.split(':', 1)[0]!r}"
            )
        return Path(url[len(prefix) :])
