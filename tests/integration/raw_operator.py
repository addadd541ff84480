"""An operator on a bare TCP socket that reads only when the test says so.

A frozen browser tab or a network cut that leaves TCP open looks like this to
the server: the handshake went through, the operator said `ready`, and then the
socket stops taking data. A websocket library would keep reading in the
background; this client does the upgrade by hand on a socket with a small
receive buffer and then leaves the bytes where they are.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
from typing import Any
from urllib.parse import urlsplit

RECEIVE_BUFFER = 4096  # bytes the kernel holds for us: tiny, so the server's fill up


class RawOperator:
    """An authenticated operator socket whose reading is under the test's control."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.received = 0  # bytes read so far, after the handshake's head

    @classmethod
    async def connect(cls, url: str, token: str) -> RawOperator:
        """Open `url`'s `/operator/ws` with a Bearer token; raise unless it upgrades."""
        loop = asyncio.get_running_loop()
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Before connecting, so that the window offered to the server stays small.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        sock.setblocking(False)
        await loop.sock_connect(sock, (host, port))
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            "GET /operator/ws HTTP/1.1\r\n"
            f"Host: {host}:{port}\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            f"Authorization: Bearer {token}\r\n\r\n"
        )
        await loop.sock_sendall(sock, request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = await loop.sock_recv(sock, 1024)
            if not chunk:
                raise ConnectionError(f"closed during the handshake: {head!r}")
            head += chunk
        status_line = head.split(b"\r\n", 1)[0]
        if not status_line.startswith(b"HTTP/1.1 101"):
            raise ConnectionError(f"no upgrade: {status_line!r}")
        return cls(sock)

    async def send(self, frame: dict[str, Any]) -> None:
        """One text frame, masked as a client must."""
        payload = json.dumps(frame).encode()
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        if len(payload) < 126:
            header = struct.pack("!BB", 0x81, 0x80 | len(payload))
        else:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, len(payload))
        await asyncio.get_running_loop().sock_sendall(self._sock, header + mask + masked)

    async def read(self, size: int) -> bytes:
        """Up to `size` bytes; b"" once the server has closed (or reset) the connection."""
        try:
            data = await asyncio.get_running_loop().sock_recv(self._sock, size)
        except ConnectionResetError:
            return b""
        self.received += len(data)
        return data

    async def read_to_end(self) -> None:
        """Resume reading, and return when the server has closed the connection."""
        while await self.read(64 * 1024):
            pass

    def close(self) -> None:
        self._sock.close()
