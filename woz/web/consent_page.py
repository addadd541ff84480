"""The participant's own page: consent, the debrief once given, and withdrawal.

`/woz/p/{token}` where the token is the participant's pseudonym signed with the
study secret (`Participants.page_token`): the link is the credential, so apps
hand it to their participants (`GET /woz/participants/{id}` returns it) and no
login is needed. Withdrawing is one form on the same page as consenting: as
easy as giving consent (GDPR Art. 7(3)).

Server-rendered HTML with every value escaped, no script, and a
Content-Security-Policy that allows only the page's own inline style (by hash)
and forms posted back to woz.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape

from aiohttp import web

from woz.context import RUNTIME, STUDIES, runtime_of
from woz.research.consent import ConsentGrant, ScopesRefused, required_uses
from woz.research.participants import Participants, ParticipantStatus

STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}"
    "section{border-top:1px solid #ccc;margin-top:1.5rem}pre{white-space:pre-wrap;font:inherit}"
    "button{font:inherit;padding:.4rem 1rem}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",  # the link is the credential: never leak it
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
USE_LABELS = {
    "in_study_analysis": "analysis by the research team for this study",
    "publication_excerpts": "short excerpts quoted in publications",
    "internal_model_training": "training the team's own AI models",
    "public_dataset_release": "release in a public dataset",
    "commercial_use": "commercial use",
}


def _participant(request: web.Request) -> tuple[Participants, str]:
    """The participant whose link this is; the request is scoped to the study whose
    secret signed it (a link names no study, so each served study is asked)."""
    token = request.match_info["token"]
    for runtime in request.config_dict[STUDIES]:
        participant = runtime.participants.participant_of_token(token)
        if participant is not None:
            request[RUNTIME] = runtime
            return runtime.participants, participant
    raise web.HTTPNotFound(
        text="This link is not valid. Ask the research team for a new one.",
        content_type="text/html",
    )


def _page(request: web.Request, body: str, status: int = 200) -> web.Response:
    """The page around `body`, titled as participants see the study (`Study.page_title`,
    never the study's own title, which may state the research question)."""
    study = runtime_of(request).study
    title = escape(study.page_title)
    subtitle = f"<p>{escape(study.page_description)}</p>" if study.page_description else ""
    html = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{title}</title><style>{STYLE}</style></head>"
        f"<body><h1>{title}</h1>{subtitle}{body}</body></html>"
    )
    return web.Response(text=html, status=status, content_type="text/html", headers=HEADERS)


def _consent_section(
    request: web.Request, status: ParticipantStatus, action: str, problem: str
) -> str:
    """The consent given, or the form to give it: every box unticked (consent is opt-in),
    the use needed to take part marked (and required by the browser), `problem` above."""
    study = runtime_of(request).study
    if status.consent is not None and status.consent_current:
        uses = ", ".join(USE_LABELS[s] for s in status.consent.scopes)
        return (
            f"<section><h2>Your consent</h2><p>You agreed on "
            f"{escape(status.consent.granted_at.strftime('%d %B %Y'))} to: {escape(uses)}.</p>"
            "</section>"
        )
    required = required_uses(study)
    boxes = "".join(
        f'<p><label><input type="checkbox" name="scope" value="{escape(use)}"'
        f"{' required' if use in required else ''}> {escape(USE_LABELS[use])}"
        f"{' <strong>(needed to take part)</strong>' if use in required else ''}</label></p>"
        for use in study.study.permitted_uses
    )
    shown = f'<p role="alert"><strong>{escape(problem)}</strong></p>' if problem else ""
    return (
        f"<section><h2>Consent</h2><pre>{escape(study.study.consent.text.strip())}</pre>"
        f'<form method="post" action="{escape(action)}/consent"><p>Tick what my conversations '
        f"may be used for:</p>{boxes}{shown}<button>I agree</button></form></section>"
    )


def _not_taking_part(request: web.Request, refused: ScopesRefused) -> str:
    """What to tell a participant whose ticks do not amount to taking part."""
    required = required_uses(runtime_of(request).study)
    if refused.code == "required_use" and required:
        return (
            f"To take part, tick “{USE_LABELS[required[0]]}”: the study cannot include your "
            "conversations without it. The other uses are up to you."
        )
    return "Tick at least one use to take part."


def _debrief_section(request: web.Request, status: ParticipantStatus, action: str) -> str:
    if not status.debriefed:
        return ""
    debrief = runtime_of(request).study.study.debrief
    html = f"<section><h2>About this study</h2><pre>{escape(debrief.text.strip())}</pre>"
    if debrief.reconsent_required and status.reconsent is None:
        html += (
            f'<form method="post" action="{escape(action)}/reconsent">'
            "<p>Now that you know, may we keep your conversations?</p>"
            '<button name="granted" value="yes">Yes, keep them</button> '
            '<button name="granted" value="no">No, do not use them</button></form>'
        )
    return html + "</section>"


async def show(request: web.Request) -> web.Response:
    return await _show(request)


async def _show(request: web.Request, problem: str = "") -> web.Response:
    participants, participant = _participant(request)
    status = await participants.status(participant)
    if status.withdrawn:
        when = status.withdrawn_at.strftime("%d %B %Y") if status.withdrawn_at else "today"
        return _page(
            request,
            f"<p>You have withdrawn from this study. Your conversations were deleted "
            f"({escape(when)}); nothing more is recorded about you.</p>",
        )
    action = request.path.rstrip("/").removesuffix("/consent")
    body = (
        _consent_section(request, status, action, problem)
        + _debrief_section(request, status, action)
        + f'<section><h2>Withdraw</h2><form method="post" action="{escape(action)}/withdraw">'
        "<p>You can stop at any time. Withdrawing deletes your conversations from the "
        "study's data and from every dataset made after today.</p>"
        '<p><label><input type="checkbox" name="confirm" value="yes" required> '
        "I want my conversations deleted</label></p>"
        "<button>Withdraw and delete my data</button></form></section>"
    )
    return _page(request, body, 400 if problem else 200)


def _back(request: web.Request) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(request.path.rsplit("/", 1)[0])


async def consent(request: web.Request) -> web.Response:
    participants, participant = _participant(request)
    form = await request.post()
    scopes = [str(s) for s in form.getall("scope", []) if s in USE_LABELS]
    try:
        grant = ConsentGrant.model_validate({"method": "participant_page", "scopes": scopes})
        await participants.consent(participant, grant, "participant_page")
    except ScopesRefused as refused:  # ticking nothing, or not what taking part needs
        return await _show(request, _not_taking_part(request, refused))
    raise _back(request)


async def reconsent(request: web.Request) -> web.Response:
    participants, participant = _participant(request)
    form = await request.post()
    granted = form.get("granted") == "yes"
    await participants.reconsent(participant, granted, None, "participant_page")
    raise _back(request)


async def withdraw(request: web.Request) -> web.Response:
    participants, participant = _participant(request)
    form = await request.post()
    if form.get("confirm") == "yes":
        await participants.withdraw(participant, "participant_page")
    raise _back(request)


def setup_participant_page(app: web.Application) -> None:
    app.router.add_get("/p/{token}", show)
    app.router.add_post("/p/{token}/consent", consent)
    app.router.add_post("/p/{token}/reconsent", reconsent)
    app.router.add_post("/p/{token}/withdraw", withdraw)
