"""`POST /v1/audio/transcriptions`: an operator listens to the audio and types what is said.

The upload (multipart, at most 25 MB, read as a stream) is saved in the data
folder's media; the task carries it as an audio part whose URL,
`/operator/media/<id>`, only operators can fetch. `prompt` and `language` reach
the operator as a system message. The operator's plain text reply is the
transcript, rendered as the app asked: `json` (`{"text"}`), `text`, `srt`, `vtt`
(`text/plain`) or `verbose_json` (with `language`, `duration` and segments whose
timing is shared out in proportion to their length: see `woz.api.openai.transcripts`).
`duration` is read from the audio's header (WAV exactly; mp3, m4a, ogg and flac
with mutagen); when it cannot be told, as for most WebM recordings, it is 0.0.

With `stream=true` the answer comes as unnamed `data:` frames, as OpenAI sends them:
`transcript.text.delta` pieces (paced like a model, or the operator's typing for a
live persona), then one `transcript.text.done` with the whole text; the response
then closes. An error after the stream began is a frame `{"error": {...}}`.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from woz.api.core.errors import error_body
from woz.api.core.exchange import Exchange
from woz.api.core.fields import parse_body
from woz.api.core.intake import find_persona, intake
from woz.api.core.sse import EventStream
from woz.api.core.uploads import Upload, read_upload
from woz.api.openai import transcripts
from woz.context import MEDIA, runtime_of
from woz.dispatch.base import TaskHandle
from woz.errors import WozError, invalid_request
from woz.media.files import MEDIA_URL_PREFIX, SavedMedia, audio_duration
from woz.models.task import Answer, ContentPart, Message, Task

MAX_AUDIO_BYTES = 25 * 1024 * 1024
PLAIN_FORMATS = {"text", "srt", "vtt"}


class TranscriptionForm(BaseModel):
    """The form fields woz acts on; the others are kept in the record and ignored."""

    model_config = ConfigDict(extra="allow")

    model: str = Field(min_length=1)
    language: str | None = None
    prompt: str | None = None
    response_format: Literal["json", "text", "srt", "verbose_json", "vtt"] = "json"
    stream: bool = False
    timestamp_granularities: list[Literal["word", "segment"]] = Field(default_factory=list)


async def create_transcription(request: web.Request) -> web.StreamResponse:
    media = request.app[MEDIA]
    upload = await read_upload(request, media, file_field="file", limit=MAX_AUDIO_BYTES)
    try:
        if upload.file is None:
            raise invalid_request("'file' is required: the audio to transcribe.", param="file")
        form = parse_body(TranscriptionForm, dict(upload.fields))
        duration = await _duration(upload.file)
        task = _task(request, form, upload, upload.file, duration)
        handle = await runtime_of(request).dispatcher.submit(task)
    except BaseException:
        if upload.file is not None:
            await media.delete(upload.file.id)
        raise
    if handle.task.id != task.id:
        await media.delete(upload.file.id)  # a retry: the task in flight has the same audio
    return await _Transcription(request, handle, form, duration).run()


async def _duration(file: SavedMedia) -> float:
    return await asyncio.to_thread(audio_duration, file.path)


def _task(
    request: web.Request,
    form: TranscriptionForm,
    upload: Upload,
    file: SavedMedia,
    duration: float,
) -> Task:
    persona = find_persona(request, form.model)
    facts = intake(request, upload.retry_key(), None)
    audio = ContentPart(type="audio", url=MEDIA_URL_PREFIX + file.id, media_type=file.media_type)
    hints = "\n".join(
        f"{label}: {value}"
        for label, value in (("Language", form.language), ("Prompt", form.prompt))
        if value
    )
    system = [Message(role="system", content=[ContentPart(type="text", text=hints)])]
    described = {
        "filename": upload.filename,
        "bytes": file.size,
        "media_type": file.media_type,
        "duration_s": duration,
    }
    return Task(
        study_id=runtime_of(request).study.id,
        persona=persona.id,
        api="openai.audio_transcriptions",
        messages=[*(system if hints else []), Message(role="user", content=[audio])],
        stream=form.stream,
        live=persona.live and form.stream,
        request={**upload.fields, "file": described},
        **facts.task_fields(),
    )


class _Transcription(Exchange):
    """One transcription, streaming or not; the lifecycle is `Exchange`'s."""

    def __init__(
        self, request: web.Request, handle: TaskHandle, form: TranscriptionForm, duration: float
    ) -> None:
        super().__init__(request, handle)
        self.form = form
        self.duration = duration

    def body(self, answer: Answer) -> dict[str, Any]:
        text = answer.content or ""
        body: dict[str, Any] = {"text": text}
        if self.form.response_format == "verbose_json":
            language = self.form.language or "unknown"
            granularities = self.form.timestamp_granularities
            body = transcripts.verbose(text, self.duration, language, granularities)
        if self.duration > 0:
            body["usage"] = {"type": "duration", "seconds": self.duration}
        return body

    def render(self, answer: Answer) -> web.Response:
        text = answer.content or ""
        shape = self.form.response_format
        if shape not in PLAIN_FORMATS:
            return super().render(answer)
        if shape == "srt":
            text = transcripts.srt(text, self.duration)
        elif shape == "vtt":
            text = transcripts.vtt(text, self.duration)
        return web.Response(text=text, content_type="text/plain", charset="utf-8")

    async def stream_start(self, events: EventStream) -> None:
        """Nothing before the first words: the headers, sent at once, open the stream."""

    async def stream_text(self, events: EventStream, piece: str) -> None:
        await events.data({"type": "transcript.text.delta", "delta": piece})

    async def stream_answer(self, events: EventStream, answer: Answer) -> None:
        async for piece in self.paced(self.unsent_text(answer)):
            await self.stream_text(events, piece)
        await events.data({"type": "transcript.text.done", "text": answer.content or ""})

    async def stream_error(self, events: EventStream, error: WozError) -> None:
        await events.data(error_body(error, "openai"))
