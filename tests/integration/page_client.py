"""A participant on the chat page without a browser: a cookie jar and the page's calls.

Shared by the chat page's integration and browser tests, with the study they run.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp

from tests.conftest import Woz
from woz.web.chat_page.resume import CONVERSATION

PAGE_STUDY_TOML = """
[study]
id = "page-study"
title = "Would shoppers trust an AI concierge?"
description = "Trained staff write every answer; participants are told it is an AI."
deception = "partial"
deception_justification = "Knowing a person answers changes how people phrase requests."
irb_protocol = "IRB-2026-7"
consent_required = true
permitted_uses = ["in_study_analysis", "publication_excerpts"]

[study.consent]
version = "2"
text = \"\"\"
You are about to try a shopping assistant prototype.

Your conversation is recorded for research. You can stop at any time.
\"\"\"

[study.debrief]
policy = "end_of_session"
text = "Thank you for helping us. You may withdraw your data now, with no consequence."

[[personas]]
id = "concierge"
display_name = "Concierge"

[[personas]]
id = "backstage"

[routing]
answer_timeout_s = 30

[pacing]
tokens_per_second = 0
first_token_delay_ms = 0
"""


TOKEN = re.compile(r'<meta name="woz-session" content="([^"]*)">')


class PageClient:
    """One participant's browser, as far as the page's endpoints can tell."""

    def __init__(self, woz: Woz, http: aiohttp.ClientSession, study_id: str) -> None:
        self.woz = woz
        self.http = http
        self.page = f"{woz.url}/p/{study_id}"
        # What a browser on the page sends with every POST: the page's origin.
        self.post_headers = {"Origin": woz.url, "X-Woz-Page": "1"}
        self.query = ""
        self.token: str | None = None  # the page's token, sent as the page's script does

    async def open(self, query: str = "") -> aiohttp.ClientResponse:
        """Visit the page (making the participant and their cookie on a first visit), with
        `query` (`?PROLIFIC_PID=...`) as the link's; later calls carry the page's token
        in `X-Woz-Session` and the query, as the page's script does."""
        self.query = query
        async with self.http.get(self.page + query) as response:
            html = await response.text()
        found = TOKEN.search(html)
        self.token = found.group(1) if found and found.group(1) else None
        return response

    @property
    def cookie(self) -> str | None:
        for cookie in self.http.cookie_jar:
            if cookie.key == "woz_participant":
                return cookie.value
        return None

    @property
    def participant(self) -> str:
        """The pseudonym the page's token (or the cookie) carries."""
        token = self.token or self.cookie
        assert token is not None
        return token.rpartition(".")[0]

    def _headers(self, method: str) -> dict[str, str]:
        headers = dict(self.post_headers) if method == "POST" else {}
        if self.token:
            headers["X-Woz-Session"] = self.token
        return headers

    async def call(
        self, method: str, path: str, body: Any = None, *, page_header: bool = True
    ) -> tuple[int, Any]:
        """An endpoint under the page; returns the status and the JSON body."""
        headers = self._headers(method)
        if not page_header:
            headers.pop("X-Woz-Page", None)
        if method == "POST" and body is None:
            body = {}  # as the page's script sends: every POST is JSON
        async with self.http.request(
            method, f"{self.page}/{path}{self.query}", json=body, headers=headers
        ) as response:
            return response.status, await response.json()

    async def state(self) -> Any:
        status, state = await self.call("GET", "state")
        assert status == 200, state
        return state

    async def consent(self, scopes: list[str] | None = None) -> Any:
        state = await self.state()
        consent = state["consent"]
        body = {
            "version": consent["version"],
            "text_sha256": consent["text_sha256"],
            "scopes": scopes if scopes is not None else [u["id"] for u in consent["uses"]],
        }
        status, state = await self.call("POST", "consent", body)
        assert status == 201, state
        return state

    async def join(self) -> Any:
        """Open the page and consent to every use: a participant ready to chat."""
        await self.open()
        return await self.consent()

    async def end(self) -> tuple[int, Any]:
        """End the chat and ask for the debrief, as the page does (with no
        after-questionnaire between them); the debrief's status and state."""
        status, state = await self.call("POST", "end")
        assert status == 200, state
        return await self.call("POST", "debrief")

    async def chat(
        self, content: str, *, model: str = "concierge", headers: dict[str, str] | None = None
    ) -> tuple[int, list[Any]]:
        """A streamed chat turn: the status and the SSE data payloads (or the error body)."""
        body = {"model": model, "messages": [{"role": "user", "content": content}], "stream": True}
        async with self.http.post(
            f"{self.page}/chat/completions",
            json=body,
            headers={
                **self._headers("POST"),
                "X-Woz-Conversation": CONVERSATION,  # the page's one conversation
                **(headers or {}),
            },
        ) as response:
            if response.status != 200:
                return response.status, [await response.json()]
            text = await response.text()
        frames = [line[6:] for line in text.splitlines() if line.startswith("data: ")]
        return 200, [frame if frame == "[DONE]" else json.loads(frame) for frame in frames]


@asynccontextmanager
async def page_client(
    woz: Woz, study_id: str | None = None, *, cookies: bool = True
) -> AsyncIterator[PageClient]:
    """A participant with their own cookie jar (which accepts the test server's IP host),
    or, with `cookies=False`, none at all (a survey's frame, where they are blocked)."""
    jar: aiohttp.abc.AbstractCookieJar = (
        aiohttp.CookieJar(unsafe=True) if cookies else aiohttp.DummyCookieJar()
    )
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        yield PageClient(woz, http, study_id or woz.study.id)
