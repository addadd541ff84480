"""The woz benchmark: woz against a bare HTTP-to-websocket relay, and woz's memory at rest.

Run it with `make bench` (or `.venv/bin/python bench/run.py`). Modules:

- `run`: the orchestrator; starts the servers, runs the load, prints and saves the figures.
- `load`: the load process (bot operators and API clients), one scenario per invocation.
- `relay`: the reference server, an aiohttp relay with no storage.
- `bots`: bot operators speaking the subset of operator protocol v1 the bench needs.
- `common`: small shared helpers (ports, percentiles, /proc readings, the study file).
"""
