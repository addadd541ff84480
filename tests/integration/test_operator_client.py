"""`OperatorClient`, the protocol's Python client: hello, held tasks, resync, reconnect."""

from __future__ import annotations

from tests.conftest import Woz, ask
from woz.operators.client import OperatorClient


async def test_the_client_keeps_its_held_tasks_and_gets_them_back_on_reconnect(
    woz: Woz,
) -> None:
    """Held tasks follow the server's frames; after a dropped socket, a reconnect resyncs
    them (re-sent within the grace), and every frame the server sent is a typed one."""
    async with (
        OperatorClient(woz.url, woz.operator_token) as op,
        woz.openai(max_retries=0) as client,
    ):
        assert op.hello["protocol"] == 1
        await op.ready(capacity=2)
        first = ask(client, "First")
        second = ask(client, "Second")
        one = await op.next_task()
        two = await op.next_task()
        assert set(op.held) == {one["id"], two["id"]}

        await op.drop()
        again = await op.reconnect()
        assert {task.id for task in again} == {one["id"], two["id"]} == set(op.held)
        assert all(task.messages for task in again)

        await op.ready(capacity=2)
        said = {task["id"]: task["messages"][-1]["content"][0]["text"] for task in (one, two)}
        assert (await op.reply(one["id"], said[one["id"]] + "!"))["type"] == "reply.ack"
        assert set(op.held) == {two["id"]}
        rejected = await op.reply(one["id"], "Again?")  # answered: no longer held
        assert rejected["error"]["code"] in ("already_answered", "unknown_task")
        await op.reply(two["id"], said[two["id"]] + "!")
        assert op.held == {}
        assert (await first).choices[0].message.content == "First!"
        assert (await second).choices[0].message.content == "Second!"
    assert op.unparsed == []


async def test_reconnect_tries_each_address_in_turn(woz: Woz) -> None:
    """An address that does not answer (a process gone) is skipped for the next one."""
    gone = "http://127.0.0.1:9"  # the discard port: nothing listens there
    op = OperatorClient(gone, woz.operator_token, urls=[woz.url], timeout=5)
    try:
        held = await op.reconnect(pause_s=0.01)
        assert held == [] and op.hello["protocol"] == 1
    finally:
        await op.close()
