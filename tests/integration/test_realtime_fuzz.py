"""Hostile Realtime events: whatever a client sends, it gets events back in the API's shape,
never a dropped socket or an unexplained server error."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from websockets.sync.client import ClientConnection, connect

from tests.conftest import STUDY_TOML
from tests.integration.json_strategies import json_values
from tests.integration.threaded_woz import threaded_woz

TYPES = [
    "session.update",
    "input_audio_buffer.append",
    "input_audio_buffer.commit",
    "input_audio_buffer.clear",
    "conversation.item.create",
    "conversation.item.truncate",
    "response.create",
    "response.cancel",
    "output_audio_buffer.clear",
    "nonsense",
]
typed_events = st.tuples(
    st.sampled_from(TYPES), st.dictionaries(st.text(max_size=20), json_values, max_size=4)
).map(lambda pair: {**pair[1], "type": pair[0]})
events = st.one_of(json_values, typed_events)
PROBE = json.dumps({"type": "session.update", "event_id": "probe", "session": {}})


@pytest.fixture(scope="module")
def socket() -> Iterator[ClientConnection]:
    with threaded_woz(STUDY_TOML + '\n[voice]\nengine = "espeak"\n') as (_, woz):
        url = woz.base_url.replace("http://", "ws://") + "/realtime?model=wizard"
        headers = {"Authorization": f"Bearer {woz.app_key}"}
        with connect(url, additional_headers=headers, max_size=None) as ws:
            assert json.loads(ws.recv(timeout=10))["type"] == "session.created"
            yield ws


def test_hostile_events_keep_the_session(socket: ClientConnection) -> None:
    """Random JSON, and random fields under real event types: every problem is an `error`
    event, and the session still answers a `session.update` after each."""

    @settings(
        max_examples=80,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(event=events)
    def answers_in_its_terms(event: Any) -> None:
        socket.send(json.dumps(event))
        socket.send(PROBE)
        while True:
            got = json.loads(socket.recv(timeout=10))
            note(str(got)[:2000])
            if got["type"] == "error":
                assert got["error"]["code"] not in (None, "internal"), "a server error"
            if got["type"] == "session.updated":
                return

    answers_in_its_terms()
