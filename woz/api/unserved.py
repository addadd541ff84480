"""The error for an API path woz does not serve, saying plainly what to do instead.

An app built for a real AI API may call endpoints no person can stand behind
(embeddings, image generation). It gets a 404 in its own
dialect whose message says so, rather than a bare "unknown path". So does an app
whose base URL lacks `/v1` (it calls `/chat/completions`), or has it once too often
(an Anthropic SDK given `.../v1` calls `/v1/v1/messages`): the message names the
base URL to use.
"""

from __future__ import annotations

from aiohttp import web

from woz.context import SETTINGS
from woz.errors import ErrorKind, WozError

# Endpoints a person cannot serve: why, and what a study can do about it.
_CANNOT = {
    "/v1/embeddings": (
        "A human cannot produce embeddings (vectors of numbers). To use a real model for "
        'them, name one in the study file: [passthrough] embeddings = "<upstream id>".'
    ),
    "/v1/images": "A human operator cannot generate or edit images through this API.",
    "/v1/audio/translations": "woz serves audio transcriptions, not translations.",
}
_SERVED = (
    "woz's operators answer chat completions, messages, responses, audio transcriptions "
    "and moderations; woz speaks text with /v1/audio/speech."
)


# The first segment of the API paths that SDKs call: a request for one of them without
# `/v1` before it came from a base URL without `/v1`.
_API_ROOTS = frozenset(
    {
        "chat",
        "completions",
        "messages",
        "responses",
        "models",
        "embeddings",
        "audio",
        "moderations",
        "images",
        "files",
    }
)


def lacks_v1(path: str) -> bool:
    """Whether `path` is an API path called without its `/v1` prefix."""
    return path.split("/", 2)[1] in _API_ROOTS


def _base_url(request: web.Request) -> str:
    public = request.app[SETTINGS].public_url
    return public.rstrip("/") if public else f"{request.scheme}://{request.host}"


def wrong_base_url(request: web.Request) -> WozError:
    """The 404 for an API path called without `/v1`, or with it twice: which base URL
    each kind of SDK takes."""
    base = _base_url(request)
    if request.path.startswith("/v1/v1/"):
        problem = "has /v1 twice: the base URL ends in /v1 and the SDK added it again."
    else:
        problem = "is not served: woz serves its API under /v1."
    return WozError(
        ErrorKind.NOT_FOUND,
        f"{request.method} {request.path} {problem} Use base_url {base}/v1 with the OpenAI "
        f"SDKs, and base_url {base} with the Anthropic SDKs (they add /v1 themselves).",
        code="unknown_url",
    )


def unserved(request: web.Request) -> WozError:
    """The 404 for a `/v1/` path woz does not serve, saying what a human cannot do."""
    if request.path.startswith("/v1/v1/"):
        return wrong_base_url(request)
    where = f"{request.method} {request.path}"
    for prefix, why in _CANNOT.items():
        if request.path.startswith(prefix):
            return WozError(
                ErrorKind.NOT_FOUND,
                f"{where} is not served by woz. {why} {_SERVED}",
                code="unsupported_endpoint",
            )
    return WozError(ErrorKind.NOT_FOUND, f"Unknown path: {where}. {_SERVED}", code="unknown_url")
