"""What a human cannot do: refused plainly, or passed through to a model the study names.

A person can write a chat answer, transcribe audio or judge content; a person
cannot produce an embedding vector. So `POST /v1/embeddings` (and any `/v1/` path
woz does not serve) is an error in the caller's dialect that says so, unless the
study names an upstream for it:

    [passthrough]
    embeddings = "openai"      # an [[upstreams]] id

Then the request goes to that upstream unchanged but for its `model` (the
upstream's), `encoding_format` included (the Python SDK asks for base64), and its
response comes back unchanged. Each pass-through is recorded with
`produced_by = "model"` and the model named; the record keeps the input text and
the number and size of the vectors, not the vectors. The research admission runs
first, so a withdrawn participant is refused and the recorded text is redacted as
the study's `[privacy]` says (the upstream gets the app's text as sent).
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from woz.api.core.fields import parse_body
from woz.api.core.intake import intake, read_json
from woz.api.unserved import unserved
from woz.assist.model_work import upstream_failed
from woz.assist.upstream import Relayed, UpstreamError, model_name
from woz.context import runtime_of
from woz.models.record import RecordStatus, Timings
from woz.models.study import Study
from woz.models.task import Answer, ContentPart, Message, ProducedBy, Task, new_id


class EmbeddingsRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1)
    input: str | list[str] | list[int] | list[list[int]]
    user: str | None = None


async def create_embedding(request: web.Request) -> web.StreamResponse:
    study = runtime_of(request).study
    upstream_id = study.passthrough.embeddings
    if upstream_id is None:
        raise unserved(request)
    body, raw = await read_json(request)
    wire = parse_body(EmbeddingsRequest, body)
    task = await runtime_of(request).admission(_task(request, study, wire, body, raw, upstream_id))
    recorder = runtime_of(request).recorder
    timings = Timings(received_at=task.received_at)
    try:
        relayed = await runtime_of(request).upstreams.relay(upstream_id, "/embeddings", body)
    except UpstreamError as exc:
        await recorder.unanswered(task, None, RecordStatus.FAILED, timings, failure=str(exc))
        raise upstream_failed(exc) from exc
    summary = _summary(relayed)
    if summary is None:
        failure = f"upstream {upstream_id!r} answered HTTP {relayed.status}"
        await recorder.unanswered(task, None, RecordStatus.FAILED, timings, failure=failure)
        return _unchanged(relayed)  # the upstream's own error, as it sent it
    spec = study.upstream(upstream_id)
    assert spec is not None  # the study file was checked
    answer = Answer(
        content=json.dumps(summary), produced_by=ProducedBy.MODEL, model=model_name(spec)
    )
    timings.answered_at = datetime.now(UTC)
    record_id = await recorder.answered(task, None, answer, timings)
    response = _unchanged(relayed)
    try:
        await response.prepare(request)
        await response.write_eof()
    except (ConnectionResetError, RuntimeError):
        recorder.delivered(record_id, False, datetime.now(UTC))
        return response
    recorder.delivered(record_id, True, datetime.now(UTC))
    return response


def _task(
    request: web.Request,
    study: Study,
    wire: EmbeddingsRequest,
    body: dict[str, Any],
    raw: bytes,
    upstream_id: str,
) -> Task:
    facts = intake(request, raw, wire.user)
    inputs = wire.input if isinstance(wire.input, list) else [wire.input]
    texts = [item if isinstance(item, str) else _tokens_text(item) for item in inputs]
    fields = facts.task_fields()
    fields["conversation_id"] = fields["conversation_id"] or new_id("conv_")
    return Task(
        study_id=study.id,
        persona=wire.model,
        api="openai.embeddings",
        messages=[Message(role="user", content=[ContentPart(type="text", text=t)]) for t in texts],
        mode="model",
        upstream=upstream_id,
        request={k: v for k, v in body.items() if k != "input"},
        **fields,
    )


def _tokens_text(item: int | list[int]) -> str:
    count = len(item) if isinstance(item, list) else 1
    return f"({count} token ids)"


def _summary(relayed: Relayed) -> dict[str, Any] | None:
    """How many vectors of what size a successful response holds; None for anything else."""
    if relayed.status != 200:
        return None
    try:
        payload = json.loads(relayed.body)
        vectors = [entry["embedding"] for entry in payload["data"]]
    except (ValueError, KeyError, TypeError):
        return None
    first = vectors[0] if vectors else []
    if isinstance(first, str):  # base64 of little-endian float32s
        try:
            dimensions = len(base64.b64decode(first)) // 4
        except (binascii.Error, ValueError):
            dimensions = 0
        encoding = "base64"
    else:
        dimensions = len(first) if isinstance(first, list) else 0
        encoding = "float"
    return {"vectors": len(vectors), "dimensions": dimensions, "encoding_format": encoding}


def _unchanged(relayed: Relayed) -> web.Response:
    return web.Response(
        status=relayed.status, body=relayed.body, headers={"Content-Type": relayed.content_type}
    )
