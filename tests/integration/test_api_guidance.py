"""What an app developer's first mistakes get from woz: errors, in the official SDKs'
own exceptions, that say what to do (and, under a deceptive design, nothing about people)."""

from __future__ import annotations

from typing import Any

import aiohttp
import anthropic
import openai
import pytest

from tests.conftest import STUDY_TOML, Woz, with_values
from tests.integration.test_openai_responses import finished

CONCEALED = STUDY_TOML.replace(
    'title = "A test study"\n',
    'title = "A test study"\ndeception = "concealed"\nirb_protocol = "IRB-1"\n'
    '[study.debrief]\ntext = "A person wrote the answers."\n',
)
NOBODY_ONLINE = "No operator is online yet (woz)"
BUSY = "The service is busy. Please try again in a moment."


def openai_client(woz: Woz, base_url: str | None = None) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=base_url or woz.base_url, api_key=woz.app_key, max_retries=0)


def anthropic_client(woz: Woz, base_url: str | None = None) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(
        base_url=base_url or woz.url, api_key=woz.app_key, max_retries=0
    )


async def nobody_online_errors(woz: Woz) -> list[str]:
    """What each SDK's exception says when a request finds no operator: Chat
    Completions, Responses, and Anthropic Messages."""
    said = []
    async with openai_client(woz) as oai, anthropic_client(woz) as claude:
        with pytest.raises(openai.InternalServerError) as chat:
            await oai.chat.completions.create(
                model="wizard", messages=[{"role": "user", "content": "anyone?"}]
            )
        said.append(str(chat.value))
        with pytest.raises(openai.InternalServerError) as responses:
            await oai.responses.create(model="wizard", input="anyone?")
        said.append(str(responses.value))
        with pytest.raises(anthropic.OverloadedError) as messages:
            await claude.messages.create(
                model="wizard", max_tokens=8, messages=[{"role": "user", "content": "anyone?"}]
            )
        said.append(str(messages.value))
    return said


async def test_without_deception_nobody_online_says_so(woz: Woz) -> None:
    """In a study without deception every SDK's exception says no operator is online yet."""
    said = await nobody_online_errors(woz)
    assert all(NOBODY_ONLINE in text and "server is overloaded" not in text for text in said), said


@pytest.mark.parametrize("study_toml", [CONCEALED], indirect=True)
async def test_a_deceptive_study_says_only_that_the_service_is_busy(woz: Woz) -> None:
    """Under a deceptive design the same errors say the service is busy, never who answers."""
    said = await nobody_online_errors(woz)
    assert all(BUSY in text and "operator" not in text.lower() for text in said), said


@pytest.mark.parametrize(
    "study_toml",
    [with_values(CONCEALED, {"routing.answer_timeout_s": "0.5", "routing.on_timeout": '"error"'})],
    indirect=True,
)
async def test_a_failed_background_response_keeps_the_cover(woz: Woz) -> None:
    """A background response nobody answered in a deceptive study fails without a word
    about operators."""
    op = await woz.online_operator()
    async with openai_client(woz) as client:
        queued = await client.responses.create(model="wizard", input="Hello?", background=True)
        await op.next_task()
        await finished(woz, queued.id)
        failed = await client.responses.retrieve(queued.id)
    assert failed.status == "failed" and failed.error is not None
    assert failed.error.message == "The request timed out. Please try again."


async def test_a_base_url_without_v1_is_told_which_to_use(woz: Woz) -> None:
    """The OpenAI SDK given the server root gets a 404 naming the base URL with /v1."""
    use = f"Use base_url {woz.url}/v1 with the OpenAI SDKs"
    async with openai_client(woz, base_url=woz.url) as client:
        with pytest.raises(openai.NotFoundError) as chat:
            await client.chat.completions.create(
                model="wizard", messages=[{"role": "user", "content": "hi"}]
            )
        with pytest.raises(openai.NotFoundError) as responses:
            await client.responses.create(model="wizard", input="hi")
        with pytest.raises(openai.NotFoundError) as models:
            await client.models.list()
    for caught in (chat, responses, models):
        assert use in str(caught.value), str(caught.value)
    assert chat.value.code == "unknown_url"
    assert str(chat.value).startswith("Error code: 404 - POST /chat/completions is not served")


async def test_anthropic_paths_without_v1_get_anthropic_errors(woz: Woz) -> None:
    """`POST /messages` at the root is a 404 in Anthropic's error shape, naming base URLs."""
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{woz.url}/messages", json={"model": "wizard"}) as response,
    ):
        body: Any = await response.json()
    assert response.status == 404 and body["type"] == "error"
    assert body["error"]["type"] == "not_found_error"
    assert f"base_url {woz.url} with the Anthropic SDKs" in body["error"]["message"]


async def test_an_anthropic_base_url_with_v1_is_told_to_drop_it(woz: Woz) -> None:
    """The Anthropic SDK given `.../v1` (it adds /v1 itself) is told to use the server root."""
    async with anthropic_client(woz, base_url=woz.base_url) as claude:
        with pytest.raises(anthropic.NotFoundError) as caught:
            await claude.messages.create(
                model="wizard", max_tokens=8, messages=[{"role": "user", "content": "hi"}]
            )
    text = str(caught.value)
    assert "POST /v1/v1/messages has /v1 twice" in text
    assert f"base_url {woz.url} with the Anthropic SDKs" in text


async def test_an_unknown_model_lists_the_models_there_are(woz: Woz) -> None:
    """Asking for a model the study does not serve names the personas it does, in both SDKs."""
    served = "The models available are: `wizard`, `org/wizard-live`."
    async with openai_client(woz) as oai, anthropic_client(woz) as claude:
        with pytest.raises(openai.NotFoundError) as chat:
            await oai.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
            )
        with pytest.raises(anthropic.NotFoundError) as messages:
            await claude.messages.create(
                model="claude-sonnet-4-5",
                max_tokens=8,
                messages=[{"role": "user", "content": "hi"}],
            )
    assert chat.value.code == "model_not_found" and served in str(chat.value)
    assert "`claude-sonnet-4-5` does not exist" in str(messages.value)
    assert served in str(messages.value)
