"""Timeouts on one timer: each fires once, in order, unless cancelled first."""

from __future__ import annotations

import asyncio

from woz.dispatch.deadlines import Deadlines

TIMEOUT_S = 0.05
WAIT_S = 5.0


class Fired:
    """Records the keys that fell due; `until(key)` waits for one of them."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self._changed = asyncio.Event()

    def __call__(self, key: str) -> None:
        self.keys.append(key)
        self._changed.set()

    async def until(self, key: str) -> None:
        async with asyncio.timeout(WAIT_S):
            while key not in self.keys:
                self._changed.clear()
                await self._changed.wait()


async def test_each_key_falls_due_once_in_the_order_set() -> None:
    fired = Fired()
    deadlines = Deadlines(TIMEOUT_S, fired)
    loop = asyncio.get_running_loop()
    started = loop.time()
    for key in ("a", "b", "c"):
        deadlines.set(key)
    await fired.until("c")
    assert fired.keys == ["a", "b", "c"]
    assert loop.time() - started >= TIMEOUT_S - 0.002
    assert len(deadlines) == 0


async def test_a_cancelled_key_never_falls_due() -> None:
    fired = Fired()
    deadlines = Deadlines(TIMEOUT_S, fired)
    deadlines.set("answered")
    deadlines.set("waiting")
    deadlines.cancel("answered")  # the first entry: the armed timer finds it gone
    deadlines.cancel("never-set")
    await fired.until("waiting")
    deadlines.set("later")  # set after the cancelled key was due: proof it had its chance
    await fired.until("later")
    assert fired.keys == ["waiting", "later"]


async def test_setting_a_key_again_restarts_its_timeout() -> None:
    fired = Fired()
    deadlines = Deadlines(TIMEOUT_S, fired)
    deadlines.set("revived")
    deadlines.set("other")
    deadlines.set("revived")
    await fired.until("revived")
    assert fired.keys == ["other", "revived"]


async def test_a_failing_callback_does_not_stop_later_keys() -> None:
    fired = Fired()

    def on_due(key: str) -> None:
        fired(key)
        if key == "bad":
            raise RuntimeError("a bug in the callback")

    deadlines = Deadlines(TIMEOUT_S, on_due)
    loop = asyncio.get_running_loop()
    errors: list[BaseException | None] = []
    loop.set_exception_handler(lambda _loop, context: errors.append(context.get("exception")))
    try:
        deadlines.set("bad")
        await fired.until("bad")
        deadlines.set("good")
        await fired.until("good")
    finally:
        loop.set_exception_handler(None)
    assert [type(error) for error in errors] == [RuntimeError]


async def test_close_drops_every_timeout() -> None:
    fired = Fired()
    deadlines = Deadlines(TIMEOUT_S, fired)
    deadlines.set("a")
    deadlines.close()
    assert len(deadlines) == 0 and "a" not in deadlines
    other = Deadlines(TIMEOUT_S, fired)
    other.set("b")
    await fired.until("b")  # "a", set before "b" with the same timeout, would have come first
    assert fired.keys == ["b"]


async def test_thousands_of_keys_half_cancelled_fire_in_order() -> None:
    count = 2_000
    fired = Fired()
    deadlines = Deadlines(TIMEOUT_S, fired)
    for number in range(count):
        deadlines.set(f"k{number}")
    for number in range(0, count, 2):
        deadlines.cancel(f"k{number}")
    await fired.until(f"k{count - 1}")
    assert fired.keys == [f"k{number}" for number in range(1, count, 2)]
