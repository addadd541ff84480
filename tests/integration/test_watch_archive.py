"""The session archive's endpoints: researchers only, filters checked, sessions grouped."""

from __future__ import annotations

import aiohttp

from tests.conftest import Woz
from tests.integration.research_seed import T0, answer_task
from woz.auth.tokens import create_key


async def get(woz: Woz, path: str, token: str | None) -> tuple[int, dict[str, object]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as http, http.get(woz.url + path, headers=headers) as reply:
        return reply.status, await reply.json()


async def test_the_archive_is_for_researchers_and_checks_its_filters(woz: Woz) -> None:
    _, researcher = await create_key(woz.store, woz.study.id, "researcher", "Rita")
    record = await answer_task(woz, "ada", "hello", "hi")
    await answer_task(woz, "bob", "hey", "yo")
    assert (await get(woz, "/watch/sessions", None))[0] == 401
    assert (await get(woz, "/watch/sessions", woz.app_key))[0] == 401
    status, body = await get(woz, "/watch/sessions", researcher)
    assert status == 200 and len(body["sessions"]) == 2 and body["more"] == 0  # type: ignore[arg-type]
    day = T0.date().isoformat()
    status, body = await get(
        woz, f"/watch/sessions?from={day}&to={day}&status=complete", researcher
    )
    assert [s["answers"] for s in body["sessions"]] == [1, 1]  # type: ignore[union-attr,index]
    for bad in ("from=yesterday", "to=2026-13-01", "status=lost"):
        status, body = await get(woz, f"/watch/sessions?{bad}", researcher)
        assert status == 400 and body["error"]["code"] == "invalid_filter", bad  # type: ignore[index]
    status, body = await get(woz, "/watch/session?conversation=nope", researcher)
    assert status == 404
    conversation = (await woz.store.get_record(record)).conversation_id  # type: ignore[union-attr]
    status, body = await get(woz, f"/watch/session?conversation={conversation}", researcher)
    [step] = body["steps"]  # type: ignore[misc]
    assert step["said"] == [{"role": "user", "text": "hello"}] and step["answer"] == "hi"
    assert step["first_keystroke_at"] is not None and step["typing"] is None
