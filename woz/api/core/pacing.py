"""Making a finished human answer read like a model's output.

Text is cut into model-like tokens (a word with its leading space, punctuation
apart, long words in pieces of four characters); `paced` yields them at the
study's tokens per second after its first-token delay, batching the tokens
that fall due together so a fast rate does not mean one write per token. The
same tokens give every dialect's `usage` its estimated counts.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Sequence

from woz.bounded import BoundedMap
from woz.models.study import PacingSection
from woz.models.task import Answer, Message, Task

_TOKEN = re.compile(r"\s*[A-Za-z0-9\u00C0-\uFFFF]{1,4}|\s*[^\sA-Za-z0-9\u00C0-\uFFFF]|\s+")


def pacing_for(task: Task, study_pacing: PacingSection) -> tuple[float, float]:
    """Tokens per second and first-token delay (s) for `task`: its arm's, else the study's."""
    rate = task.tokens_per_second
    delay_ms = task.first_token_delay_ms
    return (
        study_pacing.tokens_per_second if rate is None else rate,
        (study_pacing.first_token_delay_ms if delay_ms is None else delay_ms) / 1000,
    )


def split_tokens(text: str) -> list[str]:
    """Pieces that join back to `text` exactly."""
    return _TOKEN.findall(text)


class _Counts:
    """Token counts of texts seen lately, by length and hash (the texts are not kept).

    Apps resend the whole conversation with every turn, so counting the prompt
    again would cost ever more per request (about 1.5 ms for 18,000 characters);
    each message's text is counted once. Two different texts of the same length
    and hash would share a count: for an estimate, an acceptable risk.
    """

    MIN_LENGTH = 200  # shorter texts are counted faster than looked up
    CAPACITY = 50_000

    def __init__(self) -> None:
        self._known: BoundedMap[tuple[int, int], int] = BoundedMap(self.CAPACITY)

    def count(self, text: str) -> int:
        if len(text) < self.MIN_LENGTH:
            return len(split_tokens(text))
        key = (len(text), hash(text))
        found = self._known.get(key)
        if found is None:
            found = len(split_tokens(text))
            self._known.put(key, found)
        return found


_counts = _Counts()


def count_tokens(text: str) -> int:
    """An estimate of a model's token count, good enough for `usage`."""
    return _counts.count(text)


def input_tokens(messages: Sequence[Message]) -> int:
    """The prompt's estimated size: each message's text plus a few tokens of framing."""
    return sum(count_tokens(m.text()) + 4 for m in messages)


def output_tokens(answer: Answer) -> int:
    """The answer's estimated size: its text and each tool call's name and arguments."""
    return count_tokens(answer.content or "") + sum(
        count_tokens(call.name + call.arguments) for call in answer.tool_calls
    )


async def paced(
    text: str, tokens_per_second: float, first_token_delay_s: float
) -> AsyncIterator[str]:
    """Yield `text` in pieces on the study's schedule; all at once when the rate is 0."""
    tokens = split_tokens(text)
    if not tokens:
        return
    if first_token_delay_s > 0:
        await asyncio.sleep(first_token_delay_s)
    if tokens_per_second <= 0:
        yield text
        return
    start = time.monotonic()
    sent = 0
    while sent < len(tokens):
        due = min(len(tokens), int((time.monotonic() - start) * tokens_per_second) + 1)
        if due > sent:
            yield "".join(tokens[sent:due])
            sent = due
        if sent < len(tokens):
            await asyncio.sleep(max(0.0, start + sent / tokens_per_second - time.monotonic()))
