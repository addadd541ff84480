"""`WOZ_ALLOWED_ORIGINS` holds origins as browsers send them, or refuses to start."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from woz.config import Settings


def test_entries_are_kept_as_browsers_serialise_an_origin() -> None:
    """Case, a default port and a trailing slash do not stop an entry from matching."""
    settings = Settings(allowed_origins=["HTTPS://Lab.Example:443/", "http://10.0.0.5:8080"])
    assert settings.allowed_origins == ["https://lab.example", "http://10.0.0.5:8080"]


@pytest.mark.parametrize(
    "entry", ["lab.example", "https://lab.example/watch", "null", "https://a?b"]
)
def test_an_entry_that_could_never_match_is_refused(entry: str) -> None:
    """A host without a scheme, a path or `null` is an error naming the entry, not a no-op."""
    with pytest.raises(ValidationError, match="is not an origin such as"):
        Settings(allowed_origins=[entry])
