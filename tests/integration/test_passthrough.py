"""What a human cannot do: embeddings refused plainly, or passed through to a named upstream.

The upstream is a small OpenAI-compatible aiohttp server inside the test; an input
of "fail" makes it answer a 400 in OpenAI's error shape.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import aiohttp
import anthropic
import openai
import pytest
from aiohttp.test_utils import TestServer

from tests.conftest import STUDY_TOML, Woz, with_values
from tests.fake_upstream import SEEN, VECTOR, embeddings_app


@pytest.fixture
async def upstream(aiohttp_server: Callable[..., Awaitable[TestServer]]) -> TestServer:
    return await aiohttp_server(embeddings_app())


@pytest.fixture
def study_toml(upstream: TestServer, request: pytest.FixtureRequest) -> str:
    """The test study, passing embeddings through to the fake upstream unless told not to;
    a dict parameter sets study values."""
    param = getattr(request, "param", None)
    if param == "no passthrough":
        return STUDY_TOML
    return (
        with_values(STUDY_TOML, param or {})
        + f"""
[[upstreams]]
id = "fake"
base_url = "{upstream.make_url("/v1")}"
model = "fake-embed"
timeout_s = 2

[passthrough]
embeddings = "fake"
"""
    )


@pytest.mark.parametrize("study_toml", ["no passthrough"], indirect=True)
async def test_without_an_upstream_embeddings_say_a_human_cannot(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """A 404 whose message says why and how a study can pass them through."""
    with pytest.raises(openai.NotFoundError) as caught:
        await openai_client.embeddings.create(model="text-embedding-3-small", input="hello")
    assert caught.value.code == "unsupported_endpoint"
    assert "A human cannot produce embeddings" in caught.value.message
    assert "[passthrough] embeddings" in caught.value.message
    assert await woz.store.list_records(woz.study.id) == []


@pytest.mark.parametrize("study_toml", ["no passthrough"], indirect=True)
async def test_other_unserved_paths_answer_in_the_callers_dialect(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """Image generation is refused in OpenAI's shape; an unknown path in Anthropic's when asked."""
    with pytest.raises(openai.NotFoundError) as caught:
        await openai_client.images.generate(prompt="a cat", model="gpt-image-1")
    assert caught.value.code == "unsupported_endpoint" and "images" in caught.value.message
    headers = {"Authorization": f"Bearer {woz.app_key}", "anthropic-version": "2023-06-01"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(woz.url + "/v1/complete", json={}, headers=headers) as got,
    ):
        assert got.status == 404
        body = await got.json()
    assert body["type"] == "error" and body["error"]["type"] == "not_found_error"
    assert "Unknown path: POST /v1/complete" in body["error"]["message"]


async def test_embeddings_pass_through_and_are_recorded_without_vectors(
    woz: Woz, openai_client: openai.AsyncOpenAI, upstream: TestServer
) -> None:
    """The SDK's base64 request reaches the upstream with its model; the record keeps sizes."""
    # The SDK's strict validation checks its own default base64 answer against
    # `list[float]` before decoding it, so it would refuse OpenAI's reply too: not strict here.
    async with woz.openai(max_retries=0, _strict_response_validation=False) as lenient:
        result = await lenient.embeddings.create(
            model="text-embedding-3-small", input=["red scarf", "blue hat"], user="p-1"
        )
    assert [d.embedding for d in result.data] == [VECTOR, VECTOR]
    assert result.model == "fake-embed"
    floats = await openai_client.embeddings.create(
        model="text-embedding-3-small", input="green", encoding_format="float"
    )
    assert floats.data[0].embedding == VECTOR
    sent = upstream.app[SEEN]
    assert [body["model"] for body in sent] == ["fake-embed", "fake-embed"]
    assert [body["encoding_format"] for body in sent] == ["base64", "float"]
    assert sent[0]["input"] == ["red scarf", "blue hat"]
    record, _ = sorted(
        await woz.store.list_records(woz.study.id), key=lambda r: r.timings.received_at
    )
    assert record.api == "openai.embeddings" and record.status == "delivered"
    assert record.produced_by == "model" and record.model == "fake:fake-embed"
    assert record.operator is None and record.synthetic is True
    assert [m.text() for m in record.messages] == ["red scarf", "blue hat"]
    assert record.answer is not None and record.answer.content is not None
    summary = json.loads(record.answer.content)
    assert summary == {"vectors": 2, "dimensions": 3, "encoding_format": "base64"}
    assert record.participant is not None and "p-1" not in record.participant


async def test_an_upstream_error_comes_back_unchanged(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """The upstream's own 400 reaches the app as it was sent; the record says it failed."""
    with pytest.raises(openai.BadRequestError) as caught:
        await openai_client.embeddings.create(model="any", input="fail")
    assert caught.value.message.endswith("Upstream says no.") and caught.value.param == "input"
    [record] = await woz.store.list_records(woz.study.id)
    assert record.status == "failed" and record.failure is not None


async def test_an_unreachable_upstream_is_a_502(
    woz: Woz, openai_client: openai.AsyncOpenAI, upstream: TestServer
) -> None:
    """When the upstream cannot be reached the app gets an upstream_error, never a hang."""
    await upstream.close()
    with pytest.raises(openai.APIStatusError) as caught:
        await openai_client.embeddings.create(model="any", input="hello")
    assert caught.value.status_code == 502 and caught.value.code == "upstream_error"


async def test_a_bad_request_is_refused_in_the_callers_dialect(woz: Woz) -> None:
    """An Anthropic client gets Anthropic's error body for a body without `input`."""
    async with anthropic.AsyncAnthropic(base_url=woz.url, api_key=woz.app_key) as claude:
        with pytest.raises(anthropic.BadRequestError) as caught:
            await claude.post("/v1/embeddings", body={"model": "x"}, cast_to=object)
    assert caught.value.body == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "'input' is required."},
    }


@pytest.mark.parametrize("study_toml", [{"study.consent_required": "true"}], indirect=True)
async def test_the_research_admission_applies_first(
    woz: Woz, openai_client: openai.AsyncOpenAI, upstream: TestServer
) -> None:
    """A study that requires consent refuses a participant without it; nothing is sent on."""
    with pytest.raises(openai.PermissionDeniedError) as caught:
        await openai_client.embeddings.create(model="any", input="hello", user="p-2")
    assert caught.value.code == "consent_required"
    assert upstream.app[SEEN] == []
