"""Settings in one typed place: environment variables with the `WOZ_` prefix.

Command-line flags override these; the study file holds everything about the
study itself, and never secrets.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from yarl import URL


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of `url`, serialised as browsers send `Origin` (lower case,
    no default port), or None for anything without a host (`null`, `file:`, garbage)."""
    try:
        parsed = URL(url)
    except ValueError:
        return None
    if not parsed.scheme or not parsed.host:
        return None
    return str(parsed.origin())


class Settings(BaseSettings):
    """Server settings. `WOZ_DATA` picks the data folder of every command."""

    model_config = SettingsConfigDict(env_prefix="WOZ_", extra="ignore")

    data: Path = Field(default=Path(".woz"), description="folder holding woz.db")
    database_url: str | None = Field(
        default=None,
        description="the PostgreSQL database every process shares (postgresql://user@host/db);"
        " absent: SQLite in the data folder",
    )
    database_pool_size: int = Field(
        default=10, ge=1, le=1000, description="connections each process may open to PostgreSQL"
    )
    redis_url: str | None = Field(
        default=None,
        description="the Redis every process's dispatcher shares (redis://host:6379/0);"
        " absent: the dispatcher keeps its state in this process",
    )
    redis_prefix: str = Field(
        default="woz:",
        min_length=1,
        max_length=100,
        description="the prefix of every Redis key and channel of this deployment",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    public_url: str | None = Field(
        default=None, description="base URL as seen by clients, when behind a proxy"
    )
    max_body_mib: int = Field(default=32, ge=20, description="request body limit")
    max_message_chars: int = Field(
        default=256 * 1024,
        ge=1024,
        description="the most text one message may carry (its text parts and tool-call"
        " arguments): more is a 400 naming the message",
    )
    keepalive_s: float = Field(default=15.0, gt=0, le=15.0)
    heartbeat_s: float = Field(default=20.0, gt=0)
    operator_send_buffer_mib: float = Field(
        default=16.0,
        gt=0,
        description="frames waiting for one operator's socket may stay above this many MiB"
        " for at most `operator_stall_s`; then the socket is closed",
    )
    operator_stall_s: float = Field(
        default=5.0,
        gt=0,
        description="an operator's socket that sends nothing of the frames waiting for it"
        " for this long is closed, and its tasks enter the reconnect grace",
    )
    disconnect_poll_s: float = Field(
        default=1.0,
        gt=0,
        description="how often a waiting request checks its client (a safety net: the"
        " server cancels the handler of a client that leaves at once)",
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="origins besides the server's own whose pages may use the console's"
        " socket and send the pages' state-changing requests, e.g. https://lab.example",
    )
    key_cache_s: float = Field(
        default=2.0,
        ge=0,
        description="how long a process trusts a key it has verified before asking the"
        " store again: a revoked key stops working within this time",
    )
    operator_key_check_s: float = Field(
        default=10.0,
        gt=0,
        description="how often an open operator socket checks that its key (or console"
        " session) still opens it; a revoked one is closed at the next check",
    )
    log_level: str = "info"
    log_summary_s: float = Field(
        default=60.0,
        gt=0,
        description="seconds between two `woz.summary` log lines (answered, waiting,"
        " p50/p99 of the time to answer)",
    )

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, url: str | None) -> str | None:
        """PostgreSQL is the only database given by URL; SQLite is the data folder's."""
        if url is None or url == "":
            return None
        if url.split("://", 1)[0] not in ("postgresql", "postgres"):
            # The value is not repeated: a URL may carry a password.
            raise ValueError(
                "must be a PostgreSQL URL such as postgresql://woz@db.example/woz"
                " (leave it out for SQLite in the data folder)"
            )
        return url

    @field_validator("redis_url")
    @classmethod
    def _redis_only(cls, url: str | None) -> str | None:
        if url is None or url == "":
            return None
        if url.split("://", 1)[0] not in ("redis", "rediss", "unix"):
            raise ValueError(
                "must be a Redis URL such as redis://127.0.0.1:6379/0"
                " (leave it out for the in-process dispatcher)"
            )
        return url

    @field_validator("allowed_origins")
    @classmethod
    def _origins_only(cls, entries: list[str]) -> list[str]:
        """Each entry as browsers serialise `Origin`; anything else (a path, no scheme)
        could never match, so it is refused rather than silently allowing nothing."""
        origins = []
        for entry in entries:
            origin = origin_of(entry)  # parses, so URL(entry) below does too
            if origin is None or URL(entry).path not in ("", "/") or URL(entry).query_string:
                raise ValueError(f"{entry!r} is not an origin such as https://lab.example:8443")
            origins.append(origin)
        return origins

    @property
    def database(self) -> Path:
        return self.data / "woz.db"
