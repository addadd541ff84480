"""Settings in one typed place: environment variables with the `WOZ_` prefix.

Command-line flags override these; the study file holds everything about the
study itself, and never secrets.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Server settings. `WOZ_DATA` picks the data folder of every command."""

    model_config = SettingsConfigDict(env_prefix="WOZ_", extra="ignore")

    data: Path = Field(default=Path(".woz"), description="folder holding woz.db")
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
    disconnect_poll_s: float = Field(
        default=1.0,
        gt=0,
        description="how often a waiting request checks its client (a safety net: the"
        " server cancels the handler of a client that leaves at once)",
    )
    allowed_origins: list[str] = Field(default_factory=list)
    log_level: str = "info"

    @property
    def database(self) -> Path:
        return self.data / "woz.db"
