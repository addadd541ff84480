"""The `woz` command: demo, serve, keys, and the research commands (`woz.cli_research`,
`woz.cli_operators`).

Logging is configured here and only here. Bad input (a study file, an
argument) ends with one line naming the problem and exit status 2, never a
traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from aiohttp import web

from woz.app import create_app
from woz.auth import create_key
from woz.chat_page import page_path
from woz.cli_operators import add_operator_commands
from woz.cli_research import CommandRefused, add_research_commands
from woz.config import Settings
from woz.console import OPERATOR_LOGIN
from woz.logging import configure_logging
from woz.models.keys import KeyRole
from woz.models.study import Study
from woz.store.sqlite import SQLiteStore
from woz.study import StudyFileError, load_study
from woz.study_summary import summary, warnings
from woz.upstream import MissingKey
from woz.watch import RESEARCHER_LOGIN

# Young collections every 50,000 net allocations instead of 700 (see _tune_garbage_collector).
GC_THRESHOLDS = (50_000, 50, 1000)
# How long a stopping server lets requests in progress finish before cancelling them
# (aiohttp's default is 60 s): requests waiting for a human end at once anyway, and a
# request whose work is still running in a thread must not hold up Ctrl+C.
SHUTDOWN_GRACE_S = 3.0


class CliError(Exception):
    """A problem with the user's input; the message is printed as is."""


def demo_study_path() -> Path:
    """The SuggEst example study, from an installed wheel or a source checkout."""
    package = Path(__file__).parent
    for candidate in (
        package / "_demo" / "study.toml",
        package.parent / "examples" / "suggest_concierge" / "study.toml",
    ):
        if candidate.exists():
            return candidate
    raise CliError("the demo study is missing from this installation")


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {
        name: value
        for name, value in (
            ("data", args.data),
            ("host", getattr(args, "host", None)),
            ("port", getattr(args, "port", None)),
        )
        if value is not None
    }
    return Settings(**overrides)


def _load(path: str) -> Study:
    try:
        return load_study(Path(path))
    except StudyFileError as exc:
        raise CliError(str(exc)) from exc


def _tune_garbage_collector() -> None:
    """Collect cycles less often than Python's default, for a long-running server.

    Each request allocates a few hundred short-lived objects, nearly all freed by
    reference counting; the default thresholds (700, 10, 10) still start a young
    collection every few requests and a full one every few hundred, which
    measurably costs throughput and tail latency (`make bench`). What exists once
    the app is set up (modules, the study, the app) lives for the whole process:
    it is moved out of the collector's sight.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


async def _serve(study: Study, settings: Settings, banner: list[str] | None) -> None:
    app = create_app(study, settings)
    # Handlers are written to be cancelled (cleanup in `finally`, commits shielded), so
    # a client that leaves stops its handler at once instead of at the next poll.
    runner = web.AppRunner(
        app, access_log=None, handler_cancellation=True, shutdown_timeout=SHUTDOWN_GRACE_S
    )
    try:
        await runner.setup()
    except MissingKey as exc:
        raise CliError(str(exc)) from exc
    site = web.TCPSite(runner, settings.host, settings.port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise CliError(
            f"cannot listen on {settings.host}:{settings.port} ({exc.strerror}); "
            "pick another with --port or WOZ_PORT"
        ) from exc
    _tune_garbage_collector()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # With --port 0 the system picks a free port: print the one actually bound.
    bound = runner.addresses[0][1] if runner.addresses else settings.port
    base = settings.public_url or f"http://{settings.host}:{bound}"
    print(f"woz is serving study {study.id!r} at {base}/v1  (Ctrl+C stops)", flush=True)
    for line in banner or []:
        print(line.replace("{base}", base), flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


async def _new_key(settings: Settings, study_id: str, role: KeyRole, name: str) -> tuple[str, str]:
    store = SQLiteStore(settings.database)
    await store.open()
    try:
        info, token = await create_key(store, study_id, role, name)
    finally:
        await store.close()
    return info.id, token


def cmd_demo(args: argparse.Namespace) -> None:
    settings = _settings(args)
    study = _load(str(demo_study_path()))
    _, app_token = asyncio.run(_new_key(settings, study.id, "app", "demo app"))
    _, operator_token = asyncio.run(_new_key(settings, study.id, "operator", "Demo operator"))
    _, researcher_token = asyncio.run(_new_key(settings, study.id, "researcher", "Demo researcher"))
    persona = study.personas[0].id
    banner = [
        "",
        "  API base URL      {base}/v1",
        f"  App key           {app_token}",
        f"  Operator console  {{base}}{OPERATOR_LOGIN.login_path}?token={operator_token}",
        f"  Participant page  {{base}}{page_path(study.id)}",
        f"  Researcher view   {{base}}{RESEARCHER_LOGIN.login_path}?token={researcher_token}",
        f"  Models            {', '.join(p.id for p in study.personas)}",
        "",
        "Open the console link and press Ready; then open the participant page and chat,",
        "or call the API, for example:",
        "",
        '  .venv/bin/python -c "from openai import OpenAI; '
        f"c = OpenAI(base_url='{{base}}/v1', api_key='{app_token}'); "
        f"print(c.chat.completions.create(model='{persona}', "
        "messages=[{'role': 'user', 'content': 'A gift idea for my sister?'}])"
        '.choices[0].message.content)"',
        "",
        f"Data is kept in {settings.data.resolve()}",
    ]
    asyncio.run(_serve(study, settings, banner))


def cmd_serve(args: argparse.Namespace) -> None:
    study = _load(args.study)
    pages = [
        f"  Operator console  {{base}}{OPERATOR_LOGIN.home}   "
        f"Participant page  {{base}}{page_path(study.id)}",
        f"  Watch view        {{base}}{RESEARCHER_LOGIN.home}",
        "Operators and researchers log in with the link `woz keys create` prints for their key.",
    ]
    asyncio.run(_serve(study, _settings(args), pages))


# Where each role's key logs a browser in (the API key of an app logs nothing in).
LOGIN_PAGES = {
    "operator": ("Operator console", OPERATOR_LOGIN),
    "researcher": ("Watch view", RESEARCHER_LOGIN),
}


def cmd_keys_create(args: argparse.Namespace) -> None:
    settings = _settings(args)
    study_id = args.study
    if study_id.endswith(".toml"):
        study_id = _load(study_id).id
    key_id, token = asyncio.run(_new_key(settings, study_id, args.role, args.name or args.role))
    if args.json:
        print(json.dumps({"id": key_id, "role": args.role, "study": study_id, "token": token}))
    else:
        print(f"Created {args.role} key {key_id} for study {study_id!r}.")
        print("Its token is shown only this once; woz keeps only a hash of it:")
        print(token)
        if args.role in LOGIN_PAGES:
            page, login = LOGIN_PAGES[args.role]
            print(f"{page}: open <woz base URL>{login.login_path}?token={token}")


def cmd_check(args: argparse.Namespace) -> None:
    study = _load(args.study_file)
    print(f"{args.study_file} is a valid study.")
    lines = summary(study)
    width = max(len(topic) for topic, _ in lines)
    for topic, text in lines:
        print(f"  {topic:<{width}}  {text}")
    for warning in warnings(study):
        print(f"warning: {warning}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="woz", description="Wizard-of-Oz prototyping: an AI API answered by people."
    )
    parser.add_argument("--data", type=Path, help="data folder (default .woz, or WOZ_DATA)")
    parser.add_argument("--log-level", default=None, help="debug, info, warning or error")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="serve the example study, ready to try")
    demo.set_defaults(func=cmd_demo)

    check = commands.add_parser("check", help="validate a study file and say what it sets up")
    check.add_argument("study_file", metavar="STUDY", help="the study file (TOML)")
    check.set_defaults(func=cmd_check)

    serve = commands.add_parser("serve", help="serve a study")
    serve.add_argument("--study", required=True, help="the study file (TOML)")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8000; 0: any free one)")
    serve.set_defaults(func=cmd_serve)

    keys = commands.add_parser("keys", help="manage keys").add_subparsers(
        dest="keys_command", required=True, metavar="ACTION"
    )
    create = keys.add_parser("create", help="create a key and print its token once")
    create.add_argument("--study", required=True, help="study id (or study file)")
    create.add_argument("--role", required=True, choices=["app", "operator", "researcher"])
    create.add_argument("--name", help="a label, such as the operator's display name")
    create.add_argument("--json", action="store_true", help="print one JSON object")
    create.set_defaults(func=cmd_keys_create)

    add_research_commands(commands)
    add_operator_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    for attr in ("host", "port"):
        if not hasattr(args, attr):
            setattr(args, attr, None)
    configure_logging(args.log_level or Settings().log_level)
    try:
        args.func(args)
    except (CliError, CommandRefused) as exc:
        print(f"woz: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0
