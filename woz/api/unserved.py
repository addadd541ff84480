"""The error for a `/v1/` path woz does not serve, saying plainly what a human cannot do.

An app built for a real AI API may call endpoints no person can stand behind
(embeddings, image generation). It gets a 404 in its own
dialect whose message says so, rather than a bare "unknown path".
"""

from __future__ import annotations

from aiohttp import web

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


def unserved(request: web.Request) -> WozError:
    """The 404 for a `/v1/` path woz does not serve, saying what a human cannot do."""
    where = f"{request.method} {request.path}"
    for prefix, why in _CANNOT.items():
        if request.path.startswith(prefix):
            return WozError(
                ErrorKind.NOT_FOUND,
                f"{where} is not served by woz. {why} {_SERVED}",
                code="unsupported_endpoint",
            )
    return WozError(ErrorKind.NOT_FOUND, f"Unknown path: {where}. {_SERVED}", code="unknown_url")
