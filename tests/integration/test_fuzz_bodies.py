"""Every JSON endpoint, fuzzed: whatever the body, an answer in the caller's terms, never a 500.

One live woz serves the whole module (from a thread: the examples are synchronous).
Each endpoint is sent valid bodies, valid bodies spoiled in one to three places, and
arbitrary JSON (`json_strategies`). Whatever it gets, it answers without a 5xx (but
503/529 when no operator is online, which is the case here: a valid body meets the
no-operator error at once instead of waiting for an answer), an error in its own
dialect's shape, and a 2xx only for a body that could be valid. A fixed number of
examples, derandomized, keeps the run short and the same every time; set
`WOZ_FUZZ_SCALE` (say, 20) to try that many times more examples, at random.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import pytest
from hypothesis import HealthCheck, given, note, settings

from tests.conftest import Woz, start_woz
from tests.fake_upstream import embeddings_app
from tests.integration.json_strategies import encode, locations, request_bodies
from tests.integration.page_client import PAGE_STUDY_TOML
from tests.integration.threaded_woz import LoopThread, serve
from woz.api.core.fields import field_path
from woz.auth.tokens import create_key
from woz.research.consent import consent_text_sha256
from woz.study import parse_study

Dialect = Literal["openai", "anthropic", "page"]
PARTICIPANT = "fuzz-app-participant"
PERSONA = "concierge"
IMAGE = "https://example.com/a.png"
SCALE = float(os.environ.get("WOZ_FUZZ_SCALE", "1"))
NOT_JSON = object()


@dataclass(frozen=True)
class Target:
    """An endpoint to fuzz and what its answers must look like."""

    name: str
    path: str
    dialect: Dialect
    caller: Literal["app", "page", "researcher"]
    valid: list[dict[str, Any]]
    # Top-level fields a body cannot do without, with the JSON types they may have
    # (none listed: any). A body without one, or with another type, is surely invalid.
    required: dict[str, tuple[type, ...]] = field(default_factory=dict)
    reads_body: bool = True
    examples: int = 40

    def surely_invalid(self, body: Any) -> bool:
        if not self.reads_body:
            return False
        if not isinstance(body, dict):
            return True
        return any(
            key not in body or (types and not isinstance(body[key], types))
            for key, types in self.required.items()
        )


CHAT = {"model": PERSONA, "messages": [{"role": "user", "content": "Hi"}]}
CHAT_RICH = {
    "model": PERSONA,
    "messages": [
        {"role": "developer", "content": "Be brief."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": IMAGE, "detail": "low"}},
                {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
                {
                    "type": "file",
                    "file": {"file_data": "data:text/plain;base64,aGk=", "filename": "a"},
                },
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "lookup", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": [{"type": "text", "text": "42"}]},
    ],
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "lookup",
                "description": "Look up",
                "parameters": {"type": "object"},
            },
        }
    ],
    "tool_choice": {"type": "function", "function": {"name": "lookup"}},
    "response_format": {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": {"type": "object"}, "strict": True},
    },
    "stream": True,
    "stream_options": {"include_usage": True},
    "max_completion_tokens": 50,
    "temperature": 0.5,
    "user": "someone",
}
RESPONSES_RICH = {
    "model": PERSONA,
    "instructions": "Be brief.",
    "input": [
        {
            "type": "message",
            "role": "user",
            "content": [
                {"type": "input_text", "text": "What is this?"},
                {"type": "input_image", "image_url": IMAGE, "detail": "auto"},
                {"type": "input_file", "file_data": "data:text/plain;base64,aGk=", "filename": "a"},
            ],
        },
        {"type": "reasoning", "id": "rs_1", "summary": []},
        {"role": "assistant", "content": [{"type": "output_text", "text": "Let me look."}]},
        {"type": "function_call", "call_id": "call_1", "name": "lookup", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_1", "output": "42"},
    ],
    "tools": [{"type": "function", "name": "lookup", "parameters": {"type": "object"}}],
    "tool_choice": {"type": "function", "name": "lookup"},
    "text": {"format": {"type": "json_schema", "name": "answer", "schema": {"type": "object"}}},
    "metadata": {"run": "fuzz"},
    "max_output_tokens": 50,
    "parallel_tool_calls": False,
    "stream": True,
    "store": True,
    "top_p": 0.9,
    "user": "someone",
}
MESSAGES_RICH = {
    "model": PERSONA,
    "max_tokens": 100,
    "system": [{"type": "text", "text": "Be brief."}],
    "messages": [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What are these?"},
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw=="},
                },
                {"type": "document", "source": {"type": "url", "url": IMAGE}, "title": "A"},
                {"type": "document", "source": {"type": "text", "data": "Plain."}},
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "Hmm.", "signature": "x"},
                {"type": "text", "text": "Let me look."},
                {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {"q": "a"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": [{"type": "text", "text": "42"}],
                }
            ],
        },
    ],
    "tools": [{"name": "lookup", "input_schema": {"type": "object"}}],
    "tool_choice": {"type": "tool", "name": "lookup", "disable_parallel_tool_use": True},
    "metadata": {"user_id": "someone"},
    "stream": True,
}
MESSAGES = {"model": PERSONA, "max_tokens": 100, "messages": [{"role": "user", "content": "Hi"}]}
TOKEN_COUNT = {k: v for k, v in MESSAGES_RICH.items() if k not in ("max_tokens", "stream")}
CONSENT = {
    "version": "2",
    "text_sha256": consent_text_sha256(parse_study(PAGE_STUDY_TOML)),
    "scopes": ["in_study_analysis"],
}
MODEL_AND_MESSAGES = {"model": (str,), "messages": (list,)}
MANY = 80  # examples for the endpoints with the richest bodies

TARGETS = [
    Target(
        "chat",
        "/v1/chat/completions",
        "openai",
        "app",
        [CHAT, CHAT_RICH],
        MODEL_AND_MESSAGES,
        examples=MANY,
    ),
    Target(
        "responses",
        "/v1/responses",
        "openai",
        "app",
        [{"model": PERSONA, "input": "Hi"}, RESPONSES_RICH],
        {"model": (str,), "input": (str, list)},
        examples=MANY,
    ),
    Target(
        "messages",
        "/v1/messages",
        "anthropic",
        "app",
        [MESSAGES, MESSAGES_RICH],
        {**MODEL_AND_MESSAGES, "max_tokens": ()},
        examples=MANY,
    ),
    Target(
        "count_tokens",
        "/v1/messages/count_tokens",
        "anthropic",
        "app",
        [TOKEN_COUNT],
        MODEL_AND_MESSAGES,
        examples=MANY,
    ),
    Target(
        "moderations",
        "/v1/moderations",
        "openai",
        "app",
        [
            {"input": "Hi"},
            {"input": ["a", "b"], "model": "omni-moderation-latest"},
            {
                "input": [
                    {"type": "text", "text": "x"},
                    {"type": "image_url", "image_url": {"url": IMAGE}},
                ]
            },
        ],
        {"input": (str, list)},
    ),
    Target(
        "speech",
        "/v1/audio/speech",
        "openai",
        "app",
        [
            {"model": "tts-1", "input": "Hi", "voice": "alloy", "response_format": "wav"},
            {"model": PERSONA, "input": "Hi there.", "voice": "nova", "speed": 1.5},
        ],
        {"model": (str,), "input": (str,), "voice": (str,)},
    ),
    Target(
        "embeddings",
        "/v1/embeddings",
        "openai",
        "app",
        [
            {"model": "text-embedding-3-small", "input": "Hi"},
            {"model": "text-embedding-3-small", "input": ["a", "b"], "encoding_format": "base64"},
            {"model": "text-embedding-3-small", "input": [[1, 2], [3]]},
        ],
        {"model": (str,), "input": (str, list)},
    ),
    Target(
        "responses_cancel",
        "/v1/responses/resp_unknown/cancel",
        "openai",
        "app",
        [{}],
        reads_body=False,
        examples=10,
    ),
    Target(
        "page_consent",
        "consent",
        "page",
        "page",
        [CONSENT],
        {"version": (str,), "text_sha256": (str,), "scopes": (list,)},
    ),
    Target(
        "page_chat",
        "chat/completions",
        "openai",
        "page",
        [{**CHAT, "stream": True}, CHAT_RICH],
        MODEL_AND_MESSAGES,
        examples=MANY,
    ),
    Target("page_end", "end", "page", "page", [{}], reads_body=False, examples=10),
    Target("page_reconsent", "reconsent", "page", "page", [{"granted": True}], {"granted": ()}),
    Target("page_withdraw", "withdraw", "page", "page", [{}], reads_body=False, examples=10),
    Target(
        "watch_notice",
        "/watch/notice",
        "page",
        "researcher",
        [{"text": "Break in five minutes."}],
        {"text": (str,)},
    ),
    Target(
        "watch_wizard_error",
        "/watch/records/rec_unknown/wizard-error",
        "page",
        "researcher",
        [{"note": "Wrong product."}, {"note": None}],
        {"note": (str, type(None))},
    ),
    Target(
        "research_consent",
        "/woz/participants/fuzz-consent/consent",
        "page",
        "app",
        [{}, {**CONSENT, "method": "api"}],
    ),
    Target(
        "research_reconsent",
        "/woz/participants/fuzz-reconsent/reconsent",
        "page",
        "app",
        [{"granted": False}, {"granted": True, "scopes": ["in_study_analysis"]}],
        {"granted": ()},
    ),
    Target(
        "research_withdraw",
        "/woz/participants/fuzz-withdraw/withdraw",
        "page",
        "app",
        [{}],
        reads_body=False,
        examples=10,
    ),
]


@dataclass
class Fuzzed:
    """The live woz under fuzzing, and how each kind of caller authenticates."""

    woz: Woz
    http: httpx.Client
    headers: dict[str, dict[str, str]]
    page: str

    def send(self, target: Target, body: bytes) -> httpx.Response:
        path = target.path if target.path.startswith("/") else f"{self.page}/{target.path}"
        headers = {"Content-Type": "application/json", **self.headers[target.caller]}
        return self.http.post(path, content=body, headers=headers)


def _fuzz_study(upstream_url: str) -> str:
    return PAGE_STUDY_TOML + (
        f'\n[[upstreams]]\nid = "fake"\nbase_url = "{upstream_url}"\n'
        'model = "fake-embed"\ntimeout_s = 5\n\n[passthrough]\nembeddings = "fake"\n'
        # espeak-ng speaks the valid speech bodies in milliseconds.
        '\n[voice]\nengine = "espeak"\n'
    )


@pytest.fixture(scope="module")
def fuzzed() -> Iterator[Fuzzed]:
    thread = LoopThread()
    try:
        with (
            thread.serving(embeddings_app()) as upstream,
            thread.entered(start_woz(serve, _fuzz_study(str(upstream.make_url("/v1"))))) as woz,
            httpx.Client(base_url=woz.url, timeout=30) as http,
        ):
            _, researcher = thread.call(create_key(woz.store, woz.study.id, "researcher", "Rita"))
            app = {"Authorization": f"Bearer {woz.app_key}", "X-Woz-Participant": PARTICIPANT}
            consented = http.post(f"/woz/participants/{PARTICIPANT}/consent", json={}, headers=app)
            assert consented.status_code == 201, consented.text
            page = f"/p/{woz.study.id}"
            cookie = http.get(page).cookies["woz_participant"]
            page_headers = {
                "Cookie": f"woz_participant={cookie}",
                "X-Woz-Page": "1",
                "Origin": woz.url,
            }
            agreed = http.post(f"{page}/consent", json=CONSENT, headers=page_headers)
            assert agreed.status_code == 201, agreed.text
            headers = {
                "app": app,
                "page": page_headers,
                "researcher": {"Authorization": f"Bearer {researcher}"},
            }
            yield Fuzzed(woz, http, headers, page)
    finally:
        thread.close()


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_no_body_gets_a_server_error(fuzzed: Fuzzed, target: Target) -> None:
    """Any body: no 5xx but the no-operator one, the dialect's error shape, 2xx only if valid."""

    @settings(
        max_examples=int(target.examples * SCALE),
        deadline=None,
        derandomize=SCALE == 1,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(body=request_bodies(target.valid))
    def answers_in_its_terms(body: Any) -> None:
        sent = encode(body)
        response = fuzzed.send(target, sent)
        note(f"{response.status_code} {response.text[:2000]}")
        check_answer(target, decoded(sent), response)

    answers_in_its_terms()


def decoded(sent: bytes) -> Any:
    """The JSON value `sent` is, or `NOT_JSON`."""
    try:
        return json.loads(sent)
    except (ValueError, RecursionError):
        return NOT_JSON


def check_answer(target: Target, body: Any, response: httpx.Response) -> None:
    status = response.status_code
    unavailable = 529 if target.dialect == "anthropic" else 503
    assert status < 500 or status == unavailable, "a server error"
    if status < 400:
        assert not target.surely_invalid(body), "an invalid body was accepted"
        return
    error = response.json()
    assert isinstance(error, dict), "not a JSON object"
    if target.dialect == "anthropic":
        assert anthropic_error(error), "not Anthropic's error shape"
    elif target.dialect == "page":
        assert page_error(error), "not the page's error shape"
    elif target.caller == "page":  # the page's chat: OpenAI's, or the page's own refusals
        assert openai_error(error) or page_error(error), "neither OpenAI's nor the page's shape"
    else:
        assert openai_error(error), "not OpenAI's error shape"
    if openai_error(error) and status == 400 and error["error"]["code"] != "invalid_json":
        assert error["error"]["type"] == "invalid_request_error"
        assert names_a_field(error["error"]["param"], body), "param names no field"


def openai_error(error: Any) -> bool:
    return _has_text(error, {"message", "type", "param", "code"}, ("message", "type"))


def anthropic_error(error: Any) -> bool:
    return error.get("type") == "error" and _has_text(error, {"type", "message"})


def page_error(error: Any) -> bool:
    return _has_text(error, {"code", "message"})


def _has_text(error: Any, keys: set[str], texts: tuple[str, ...] | None = None) -> bool:
    """Whether `error` is `{"error": {...}}` with exactly `keys`, and text in `texts` (all)."""
    inner = error.get("error")
    return (
        isinstance(inner, dict)
        and set(inner) == keys
        and all(isinstance(inner[key], str) and inner[key] for key in texts or keys)
    )


def names_a_field(param: str | None, body: Any) -> bool:
    """Whether `param` is a place in `body`, or a missing field (a plain name) of an
    object in it."""
    if param is None:
        return False
    for at, value in _with_values(body):
        place = field_path(at)
        if param == place:
            return True
        within = not at or param.startswith(f"{place}.")
        missing = param.removeprefix(f"{place}.") if at else param
        if isinstance(value, dict) and within and re.fullmatch(r"\w+", missing):
            return True
    return False


def _with_values(body: Any) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    for at in locations(body):
        value = body
        for step in at:
            value = value[step]
        yield at, value
