"""A Realtime session's settings: the defaults, `session.update`, and their wire shape.

Defaults are the API's: audio out (with its transcript), PCM16 at 24 kHz both
ways, server VAD on (threshold 0.5, 300 ms of prefix padding, 500 ms of silence
ends a turn, a response created and a reply interrupted by speech). A
`session.update` changes only the fields it names; `turn_detection: null`
switches to manual commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from woz.api.realtime.audio import AudioFormat
from woz.api.realtime.events import FunctionTool, NamedTool, SessionConfig, TurnDetection
from woz.models.task import ToolChoice, ToolSpec


@dataclass(frozen=True)
class VadSettings:
    threshold: float = 0.5
    prefix_padding_ms: int = 300
    silence_duration_ms: int = 500
    create_response: bool = True
    interrupt_response: bool = True
    type: Literal["server_vad", "semantic_vad"] = "server_vad"

    def updated(self, wire: TurnDetection) -> VadSettings:
        changes = {
            name: value
            for name in (
                "threshold",
                "prefix_padding_ms",
                "silence_duration_ms",
                "create_response",
                "interrupt_response",
            )
            if (value := getattr(wire, name)) is not None
        }
        return replace(self, type=wire.type, **changes)

    def wire(self) -> dict[str, Any]:
        shape: dict[str, Any] = {
            "type": self.type,
            "create_response": self.create_response,
            "interrupt_response": self.interrupt_response,
        }
        if self.type == "server_vad":
            shape |= {
                "threshold": self.threshold,
                "prefix_padding_ms": self.prefix_padding_ms,
                "silence_duration_ms": self.silence_duration_ms,
                "idle_timeout_ms": None,
            }
        else:
            shape["eagerness"] = "auto"
        return shape


@dataclass(frozen=True)
class Settings:
    """Everything `session.update` controls."""

    model: str
    modality: Literal["audio", "text"] = "audio"
    instructions: str = ""
    input_format: AudioFormat = "audio/pcm"
    output_format: AudioFormat = "audio/pcm"
    turn_detection: VadSettings | None = field(default_factory=VadSettings)
    voice: str = "alloy"
    speed: float = 1.0
    tools: tuple[FunctionTool, ...] = ()
    tool_choice: str | NamedTool = "auto"
    transcription: dict[str, Any] | None = None

    def updated(self, wire: SessionConfig, fields: set[str]) -> Settings:
        """These settings with `wire` applied; `fields` are the keys the client sent
        (so an explicit `turn_detection: null` can be told from an absent one)."""
        new = self
        if wire.output_modalities:
            new = replace(new, modality=wire.output_modalities[0])
        if wire.instructions is not None:
            new = replace(new, instructions=wire.instructions)
        if wire.tools is not None:
            new = replace(new, tools=tuple(wire.tools))
        if wire.tool_choice is not None:
            new = replace(new, tool_choice=wire.tool_choice)
        audio = wire.audio
        if audio is not None and audio.input is not None:
            given = audio.input.model_fields_set
            if audio.input.format is not None:
                new = replace(new, input_format=audio.input.format.type)
            if "turn_detection" in given:
                detection = audio.input.turn_detection
                base = new.turn_detection or VadSettings()
                new = replace(new, turn_detection=base.updated(detection) if detection else None)
            if "transcription" in given:
                new = replace(new, transcription=audio.input.transcription)
        if audio is not None and audio.output is not None:
            out = audio.output
            if out.format is not None:
                new = replace(new, output_format=out.format.type)
            if out.voice is not None:
                voice = out.voice if isinstance(out.voice, str) else str(out.voice.get("id", ""))
                new = replace(new, voice=voice)
            if out.speed is not None:
                new = replace(new, speed=out.speed)
        return new

    def task_tools(self) -> list[ToolSpec]:
        return tool_specs(self.tools)

    def task_tool_choice(self) -> ToolChoice:
        choice = self.tool_choice
        if isinstance(choice, NamedTool):
            return ToolChoice(mode="named", name=choice.name)
        mode: Literal["auto", "required", "none"] = (
            "required" if choice == "required" else "none" if choice == "none" else "auto"
        )
        return ToolChoice(mode=mode)

    def wire(self, session_id: str, expires_at: int) -> dict[str, Any]:
        """The session as `session.created` / `session.updated` describe it."""
        fmt_in = _format(self.input_format)
        fmt_out = _format(self.output_format)
        return {
            "type": "realtime",
            "object": "realtime.session",
            "id": session_id,
            "model": self.model,
            "output_modalities": [self.modality],
            "instructions": self.instructions,
            "tools": [t.model_dump(exclude_none=True) for t in self.tools],
            "tool_choice": (
                self.tool_choice.model_dump()
                if isinstance(self.tool_choice, NamedTool)
                else self.tool_choice
            ),
            "max_output_tokens": "inf",
            "tracing": None,
            "prompt": None,
            "truncation": "auto",
            "expires_at": expires_at,
            "include": None,
            "audio": {
                "input": {
                    "format": fmt_in,
                    "transcription": self.transcription,
                    "noise_reduction": None,
                    "turn_detection": self.turn_detection.wire() if self.turn_detection else None,
                },
                "output": {"format": fmt_out, "voice": self.voice, "speed": self.speed},
            },
        }


def tool_specs(tools: Sequence[FunctionTool]) -> list[ToolSpec]:
    """The Realtime API's function tools as a task's tools."""
    return [
        ToolSpec(name=t.name, description=t.description, parameters=t.parameters) for t in tools
    ]


def _format(fmt: AudioFormat) -> dict[str, Any]:
    return {"type": fmt, "rate": 24000} if fmt == "audio/pcm" else {"type": fmt}
