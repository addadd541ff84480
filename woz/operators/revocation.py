"""An operator socket outlives no revocation: its credential is checked again and again.

A key revoked with `woz keys revoke` (by any process sharing the store) refuses new
sockets at once; one already open is closed at its next check, with an `error` frame
`key_revoked` first. Its held tasks then take the reconnect grace and go back to the
queue, as when any operator vanishes. A console socket is closed the same way when its
session ends. A check that cannot reach the store closes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import WSCloseCode

from woz.operators.connection import OperatorConnection

log = structlog.get_logger(__name__)

REVOKED_MESSAGE = "This operator key was revoked, or the console session ended; log in again."


async def close_when_revoked(
    still_live: Callable[[], Awaitable[bool]], connection: OperatorConnection, every_s: float
) -> None:
    """Run beside the socket: every `every_s`, ask `still_live`; once it says no, tell
    the operator and close the socket (which ends its handler)."""
    while True:
        await asyncio.sleep(every_s)  # a period between checks, not a wait for an event
        try:
            live = await still_live()
        except Exception as exc:  # a store that is briefly away revokes nobody
            log.warning("operator.key_check_failed", error=repr(exc))
            continue
        if not live:
            log.info("operator.key_revoked")
            connection.send("error", code="key_revoked", message=REVOKED_MESSAGE)
            await connection.stop()
            await connection.close(code=WSCloseCode.POLICY_VIOLATION, message=b"key revoked")
            return
