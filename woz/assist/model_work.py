"""Where real models take part in a task: control-arm answers, assist drafts, fallbacks.

The dispatcher stays in charge of the task's life; this module asks the
upstream and says what the model's part was in an operator's answer.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import structlog

from woz.assist.provenance import classify
from woz.assist.upstream import ModelBackend, UpstreamError
from woz.errors import ErrorKind, WozError
from woz.models.task import Answer, Task

if TYPE_CHECKING:
    from woz.dispatch.backend import ReplyContext

log = structlog.get_logger(__name__)

DRAFT_FRAME_INTERVAL_S = 0.1  # how often a streaming draft is pushed to the console

SendDraft = Callable[[str, str, bool, str | None, str, str | None], Awaitable[bool]]
"""`(task_id, text, done, error, source, failure)`: a draft so far; False once the task ended."""


def upstream_failed(exc: UpstreamError) -> WozError:
    """The API error for a request whose model failed (a 502 in the caller's dialect)."""
    return WozError(
        ErrorKind.UPSTREAM,
        f"The model behind this persona failed: {exc.reason}.",
        code="upstream_error",
    )


def with_provenance(context: ReplyContext, answer: Answer) -> Answer:
    """`answer` with `produced_by`, edit ratio and draft, when a model drafted the task,
    and why the draft failed, when it did (the record keeps it as its `failure`)."""
    if context.draft_error is not None:
        answer = answer.model_copy(update={"draft_failure": context.draft_error})
    if context.model_draft is None:
        return answer
    final = answer.content if answer.content is not None else _calls_text(answer)
    produced_by, ratio = classify(context.model_draft, final)
    return answer.model_copy(
        update={
            "produced_by": produced_by,
            "edit_ratio": ratio,
            "draft": context.model_draft,
            "draft_source": context.draft_source,
        }
    )


def _calls_text(answer: Answer) -> str:
    return "\n".join(f"{c.name}({c.arguments})" for c in answer.tool_calls)


class ModelWork:
    """The study's upstream models, as the dispatcher uses them."""

    def __init__(self, models: ModelBackend | None, send_draft: SendDraft) -> None:
        self._models = models
        self._send_draft = send_draft

    async def answer(self, upstream: str, task: Task) -> Answer:
        if self._models is None:
            raise UpstreamError(upstream, "no_backend", "woz runs without upstream models")
        return await self._models.answer(upstream, task)

    async def draft(self, task: Task) -> None:
        """Assist mode: stream the upstream's draft to whoever holds the task, through
        the backend (the operator may be on another process); stops once it ended."""
        if self._models is None or task.upstream is None:
            return
        source = task.upstream
        text = ""
        last_sent = 0.0
        try:
            async for piece in self._models.stream(source, task):
                text += piece
                if time.monotonic() - last_sent >= DRAFT_FRAME_INTERVAL_S:
                    if not await self._send_draft(task.id, text, False, None, source, None):
                        return
                    last_sent = time.monotonic()
        except UpstreamError as exc:
            log.warning("task.draft_failed", task_id=task.id, reason=exc.reason)
            await self._send_draft(task.id, text, True, exc.reason, source, str(exc))
            return
        await self._send_draft(task.id, text, True, None, source, None)
