"""The OpenAI Realtime API (`GET /v1/realtime`): speech in, a wizard answers, speech out.

- `events`: the client events as pydantic models, server events and errors;
- `audio`: PCM16 at 24 kHz, G.711 μ-law / A-law, base64, WAV;
- `vad`: energy-based server voice activity detection;
- `config`: the session's settings and `session.update`;
- `conversation`: the items, and the messages a wizard's task is built from;
- `session`: the state machine of one WebSocket;
- `reply`: one response, from the wizard's task to `response.done`;
- `announce`: the wizard who will answer a session is told of it before its first task;
- `listen`, `relay`: wizards hear a session live, on its process or another one;
- `records`: what a voice turn adds to its record;
- `socket`: the endpoint and its authentication.
"""
