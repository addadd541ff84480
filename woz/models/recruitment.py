"""The study file's `[recruitment]` and `[embedding]`: running the participant page online.

`[recruitment]` says which platform sends participants (and so which URL
parameters carry their ids), the codes that end a session on it, where to send
participants back, the session's time limit and what participants are paid.
`[embedding]` says which sites may show the participant page in a frame (a
survey's question, say). Both are read by `woz.research.recruitment`.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Platform = Literal["prolific", "mturk", "sona", "generic"]


class PlatformParams(BaseModel):
    """The URL parameters a platform adds to the study's link."""

    model_config = ConfigDict(frozen=True)

    participant: str
    session: str | None = None
    study: str | None = None


PLATFORM_PARAMS: dict[str, PlatformParams] = {
    "prolific": PlatformParams(participant="PROLIFIC_PID", session="SESSION_ID", study="STUDY_ID"),
    "mturk": PlatformParams(participant="workerId", session="assignmentId", study="hitId"),
    "sona": PlatformParams(participant="id"),
    "generic": PlatformParams(participant="pid"),
}
PROLIFIC_RETURN_URL = "https://app.prolific.com/submissions/complete?cc={code}"
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
URL_PARAM = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")
CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# A CSP source expression for a site: scheme, host (optionally `*.` for its
# subdomains) and port. Nothing else may reach the header (no `;`, no quotes).
FRAME_ORIGIN = re.compile(r"^https?://(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:[0-9]{1,5})?$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RecruitmentSection(_Strict):
    """Where participants come from and how they go back.

    `platform`: `prolific`, `mturk`, `sona` or `generic`; it names the URL
    parameter with the participant's id (`PROLIFIC_PID`, `workerId`, `id`,
    `pid`), which `id_param` may rename. Codes: `completion_code` (the whole
    flow), `screened_out_code` (consent refused), `timed_out_code` (the time
    limit ended the chat), and `arm_codes` for a completion code per arm.
    `return_url`: where the page sends the participant at the end, with
    `{code}` and any of the link's parameters (`{id}`, `{SESSION_ID}`, ...) filled
    in; Prolific's completion URL by default. `time_limit_minutes`: how long the
    chat may last. `pay` per participant (in `currency`) for `expected_minutes`,
    for `woz report participants`.
    """

    platform: Platform = "generic"
    id_param: str = Field(default="", max_length=64)
    completion_code: str = ""
    screened_out_code: str = ""
    timed_out_code: str = ""
    arm_codes: dict[str, str] = Field(default_factory=dict)
    return_url: str = Field(default="", max_length=2000)
    time_limit_minutes: float | None = Field(default=None, gt=0, le=24 * 60)
    pay: float = Field(default=0.0, ge=0)
    currency: str = Field(default="GBP", pattern=r"^[A-Z]{3}$")
    expected_minutes: float | None = Field(default=None, gt=0)

    @field_validator("id_param")
    @classmethod
    def _a_url_parameter(cls, name: str) -> str:
        if name and not URL_PARAM.match(name):
            raise ValueError("id_param is a URL parameter's name: letters, digits, _ . -")
        return name

    @field_validator("completion_code", "screened_out_code", "timed_out_code")
    @classmethod
    def _a_code(cls, code: str) -> str:
        if code and not CODE.match(code):
            raise ValueError("a code is 1 to 64 letters, digits, _ or -")
        return code

    @field_validator("arm_codes")
    @classmethod
    def _arm_codes(cls, codes: dict[str, str]) -> dict[str, str]:
        for arm, code in codes.items():
            if not CODE.match(code):
                raise ValueError(f"arm_codes.{arm}: a code is 1 to 64 letters, digits, _ or -")
        return codes

    @field_validator("return_url")
    @classmethod
    def _a_web_address(cls, url: str) -> str:
        if url and not url.startswith(("https://", "http://")):
            raise ValueError("return_url is a web address starting with https://")
        return url

    @model_validator(mode="after")
    def _distinct_codes(self) -> RecruitmentSection:
        """A code says how a session ended, so no two outcomes share one."""
        ends = {"screened_out_code": self.screened_out_code, "timed_out_code": self.timed_out_code}
        completions = {"completion_code": self.completion_code} | {
            f"arm_codes.{arm}": code for arm, code in self.arm_codes.items()
        }
        seen: dict[str, str] = {}
        for name, code in (ends | completions).items():
            if not code:
                continue
            if code in seen and not (name in completions and seen[code] in completions):
                raise ValueError(f"{name} and {seen[code]} are the same code: codes must differ")
            seen.setdefault(code, name)
        unknown = [
            name
            for name in PLACEHOLDER.findall(self.return_url)
            if name != "code" and name not in self.url_params()
        ]
        if unknown:
            raise ValueError(
                f"return_url: {{{unknown[0]}}} is neither {{code}} nor a parameter of the "
                f"link ({', '.join(self.url_params())})"
            )
        return self

    @property
    def params(self) -> PlatformParams:
        """The URL parameters of the platform, with `id_param` applied."""
        params = PLATFORM_PARAMS[self.platform]
        if self.id_param:
            return params.model_copy(update={"participant": self.id_param})
        return params

    def url_params(self) -> list[str]:
        params = self.params
        return [name for name in (params.participant, params.session, params.study) if name]

    @property
    def return_template(self) -> str:
        """Where to send participants at the end ("" to show the code only)."""
        if self.return_url:
            return self.return_url
        return PROLIFIC_RETURN_URL if self.platform == "prolific" else ""


class EmbeddingSection(_Strict):
    """Sites allowed to show the participant page in a frame (CSP `frame-ancestors`),
    and to hear its events by `postMessage`: origins such as `https://*.qualtrics.com`."""

    allow: list[str] = Field(default_factory=list, max_length=50)

    @field_validator("allow")
    @classmethod
    def _origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if not FRAME_ORIGIN.match(origin):
                raise ValueError(
                    f"{origin!r} is not an origin: write scheme and host, such as "
                    "https://survey.example.org or https://*.qualtrics.com (no path)"
                )
        return origins
