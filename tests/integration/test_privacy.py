"""Personal data never reaches an operator: the study's redaction runs before the websocket."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import anthropic
import openai
import pytest

from tests.conftest import STUDY_TOML, Woz

PRIVATE = (
    STUDY_TOML
    + """
[privacy]
redact = ["email", "phone", "payment_card", "iban", "ip_address"]
"""
)
KEEP_RAW = PRIVATE + "keep_raw = true\n"

EMAILS = ["jane.doe@example.com", "Bob.O'Neil+shop@mail.example.co.uk", "x_y-z@sub.domain.org"]
PHONES = ["+44 20 7946 0958", "(555) 123-4567", "+1-202-555-0173", "030 12345678", "0049 30 901820"]
CARDS = ["4111 1111 1111 1111", "5555-5555-5555-4444", "378282246310005", "6011000990139424"]
IBANS = ["DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432", "FR1420041010050500013M02606"]
IPS = ["192.168.10.42", "8.8.4.4", "2001:db8:85a3::8a2e:370:7334", "fe80:0:0:0:202:b3ff:fe1e:8329"]
CORPUS = [*EMAILS, *PHONES, *CARDS, *IBANS, *IPS]


def corpus_text() -> str:
    return " | ".join(f"value {i}: {value}." for i, value in enumerate(CORPUS))


def leaks(frames: list[dict[str, Any]]) -> list[str]:
    """Corpus values found in the frames, also with their separators stripped."""
    text = json.dumps(frames, ensure_ascii=False)
    squeezed = re.sub(r"[\s().-]", "", text)
    return [
        value for value in CORPUS if value in text or re.sub(r"[\s().-]", "", value) in squeezed
    ]


@pytest.mark.parametrize("study_toml", [PRIVATE], indirect=True)
async def test_seeded_pii_never_reaches_the_operators_frames(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """Emails, phones, Luhn-valid cards, IBANs and IPs in any turn arrive as placeholders."""
    op = await woz.ready_operator()
    call = openai_client.chat.completions.create(
        model="wizard",
        messages=[
            {"role": "system", "content": f"Customer on file: {EMAILS[0]}, {PHONES[0]}"},
            {"role": "user", "content": corpus_text()},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {
                            "name": "lookup",
                            "arguments": json.dumps({"email": EMAILS[1], "ip": IPS[0]}),
                        },
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": f"card {CARDS[0]}, {IBANS[0]}"},
            {"role": "user", "content": [{"type": "text", "text": f"also {IBANS[2]} {IPS[3]}"}]},
        ],
        metadata={"note": f"from {EMAILS[2]}"},
    )
    reply = asyncio.create_task(call)
    task = await op.next_task()
    text = json.dumps(task)
    assert not leaks(op.frames), leaks(op.frames)
    for placeholder in ("[EMAIL_1]", "[PHONE_1]", "[CARD_1]", "[IBAN_1]", "[IP_1]"):
        assert placeholder in text
    assert json.loads(task["messages"][2]["tool_calls"][0]["arguments"])["email"].startswith(
        "[EMAIL_"
    )
    ack = await op.reply(task["id"], "Thanks, noted.")
    await reply
    record = await woz.store.get_record(ack["record_id"])
    assert record is not None
    assert not leaks([record.model_dump(mode="json", exclude={"answer"})])
    assert record.redactions["payment_card"] == 5 and record.redactions["iban"] == 5
    assert set(record.redactions) == {"email", "phone", "payment_card", "iban", "ip_address"}


@pytest.mark.parametrize("study_toml", [PRIVATE], indirect=True)
async def test_a_retrieved_response_holds_only_redacted_text(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """The app's own response carries its instructions; the stored one, placeholders."""
    op = await woz.ready_operator()
    reply = asyncio.create_task(
        openai_client.responses.create(
            model="wizard",
            instructions=f"Customer on file: {EMAILS[0]}",
            input=f"call me on {PHONES[0]}",
            metadata={"note": f"from {EMAILS[2]}"},
            user="participant-7",
        )
    )
    task = await op.next_task()
    await op.reply(task["id"], "Will do.")
    sent = await reply
    assert sent.instructions == f"Customer on file: {EMAILS[0]}"
    retrieved = await openai_client.responses.retrieve(sent.id)
    assert retrieved.output_text == "Will do."
    assert retrieved.instructions == "Customer on file: [EMAIL_1]"
    assert retrieved.metadata == {"note": "from [EMAIL_2]"}
    assert retrieved.user is None
    assert not leaks([retrieved.model_dump(mode="json")])


@pytest.mark.parametrize("study_toml", [KEEP_RAW], indirect=True)
async def test_keep_raw_keeps_the_record_raw_but_not_the_operators_view(
    woz: Woz, openai_client: openai.AsyncOpenAI
) -> None:
    """With keep_raw the record holds the original text; the operator still sees placeholders."""
    op = await woz.ready_operator()
    reply = asyncio.create_task(
        openai_client.chat.completions.create(
            model="wizard", messages=[{"role": "user", "content": f"mail {EMAILS[0]}"}]
        )
    )
    task = await op.next_task()
    assert task["messages"][0]["content"][0]["text"] == "mail [EMAIL_1]"
    ack = await op.reply(task["id"], "ok")
    await reply
    record = await woz.store.get_record(ack["record_id"])
    assert record is not None and record.messages[0].text() == f"mail {EMAILS[0]}"


@pytest.mark.parametrize("study_toml", [PRIVATE], indirect=True)
async def test_anthropic_system_prompt_and_messages_are_redacted(woz: Woz) -> None:
    """The Anthropic dialect goes through the same redaction, system prompt included."""
    op = await woz.ready_operator()
    async with anthropic.AsyncAnthropic(base_url=woz.url, api_key=woz.app_key, max_retries=0) as c:
        reply = asyncio.create_task(
            c.messages.create(
                model="wizard",
                max_tokens=100,
                system=f"Account {IBANS[1]}",
                messages=[{"role": "user", "content": f"call me on {PHONES[1]}"}],
            )
        )
        task = await op.next_task()
        await op.reply(task["id"], "ok")
        await reply
    assert not leaks(op.frames)
