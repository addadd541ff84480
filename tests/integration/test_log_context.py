"""The log context of a request: its ids on its own lines, never on the next request's,
even on the same keep-alive connection."""

from __future__ import annotations

import aiohttp
import structlog
import structlog.testing

from tests.conftest import Woz


async def test_the_app_key_is_bound_for_its_request_only(woz: Woz) -> None:
    connector = aiohttp.TCPConnector(limit=1)  # both requests on one connection
    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as events:
        async with aiohttp.ClientSession(str(woz.server.make_url("")), connector=connector) as http:
            api = await http.post(
                "/v1/chat/completions",
                json={"model": "no-such-model", "messages": [{"role": "user", "content": "hi"}]},
                headers={"Authorization": f"Bearer {woz.app_key}"},
            )
            assert api.status == 404
            await api.read()
            page = await http.post(
                f"/p/{woz.study.id}/end",
                json={},
                headers={"Origin": "https://elsewhere.example"},
            )
            assert page.status == 403
            await page.read()
    api_error = next(e for e in events if e["event"] == "api.error")
    refused = next(e for e in events if e["event"] == "origin.refused")
    assert api_error["app_key"].startswith("key_")
    assert api_error["request_id"] != refused["request_id"]
    assert "app_key" not in refused
