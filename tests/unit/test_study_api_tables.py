"""The study file's tables for the API surface: [moderation], [passthrough], the 429 limit."""

from __future__ import annotations

import pytest

from tests.unit.test_study_file import MINIMAL
from woz.study import StudyFileError, parse_study

UPSTREAM = '\n[[upstreams]]\nid = "oai"\nbase_url = "https://api.example/v1"\nmodel = "emb-1"\n'


def test_defaults() -> None:
    """Auto moderation, no pass-through, four requests in flight per participant."""
    study = parse_study(MINIMAL)
    assert study.moderation.mode == "auto" and study.moderation.persona is None
    assert study.passthrough.embeddings is None
    assert study.routing.max_in_flight_per_participant == 4


def test_valid_tables_load() -> None:
    """Human moderation under a named persona; embeddings through a named upstream."""
    text = (
        MINIMAL
        + UPSTREAM
        + '\n[moderation]\nmode = "human"\npersona = "p"\n\n[passthrough]\nembeddings = "oai"\n'
    )
    study = parse_study(text)
    assert study.moderation.persona == "p" and study.passthrough.embeddings == "oai"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('\n[moderation]\npersona = "ghost"\n', "moderation.persona names 'ghost'"),
        ('\n[passthrough]\nembeddings = "ghost"\n', "upstream 'ghost' is not defined"),
        ('\n[passthrough]\nimages = "oai"\n', "unknown field 'passthrough.images'"),
        ('\n[moderation]\nmode = "robot"\n', "field 'moderation.mode'"),
        ("\n[routing]\nmax_in_flight_per_participant = 0\n", "max_in_flight_per_participant"),
    ],
)
def test_mistakes_are_refused(extra: str, message: str) -> None:
    """Unknown personas, upstreams, fields and values are named in the error."""
    with pytest.raises(StudyFileError) as caught:
        parse_study(MINIMAL + UPSTREAM + extra, source="study.toml")
    assert message in str(caught.value)
