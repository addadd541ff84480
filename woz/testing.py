"""Test helpers for woz and for users' own tests: a scripted operator.

`ScriptedOperator` is the protocol client (`woz.operators.client.OperatorClient`)
with helpers for tests:

    async with ScriptedOperator(server_url, operator_token) as op:
        await op.ready()
        task = await op.next_task()
        await op.reply(task["id"], content="Hello from a human")

Every wait has a timeout, so a test that expects a frame that never comes
fails with a clear message instead of hanging.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from woz.operators.client import Frame, OperatorClient

__all__ = ["Frame", "ScriptedOperator"]


class ScriptedOperator(OperatorClient):
    """An operator driven by code."""

    def answer_all(self, answer: Callable[[Frame], Awaitable[str] | str]) -> None:
        """Answer every task from now on with `answer(task)`, in the background."""

        async def loop() -> None:
            while True:
                task = await self.next_task(timeout=3600)
                text = answer(task)
                if not isinstance(text, str):
                    text = await text
                await self.reply(task["id"], text, wait=False)

        self._auto = asyncio.create_task(loop())
