"""`woz demo` and `woz serve`: run the server, in one process or `--workers N`.

`demo` serves the example study with fresh keys and prints where everything is;
`serve` serves the study files given (reloaded on SIGHUP or `woz studies reload`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import resource
import signal
from pathlib import Path
from typing import Any

import structlog
from aiohttp import web

from woz.app import create_app
from woz.assist.upstream import MissingKey
from woz.cli.common import CliError, load_study_file, settings_from
from woz.cli.keys import new_key
from woz.cli.workers import WorkersRefused, check_workers, free_port, preflight, run_workers
from woz.config import Settings
from woz.context import STUDIES
from woz.control import control_channel
from woz.dispatch.factory import RedisUnreachable
from woz.logging import configure_logging
from woz.models.study import Study
from woz.research.recruitment import study_link
from woz.served import StudySources
from woz.store.base import StoreUnavailable
from woz.study import StudyFileError
from woz.web.chat_page import page_path
from woz.web.console import OPERATOR_LOGIN
from woz.web.watch import RESEARCHER_LOGIN

log = structlog.get_logger(__name__)


# Young collections every 50,000 net allocations instead of 700 (see _tune_garbage_collector).
GC_THRESHOLDS = (50_000, 50, 1000)


# How long a stopping server lets requests in progress finish before cancelling them
# (aiohttp's default is 60 s): requests waiting for a human end at once anyway, and a
# request whose work is still running in a thread must not hold up Ctrl+C.
SHUTDOWN_GRACE_S = 3.0


def demo_study_path() -> Path:
    """The SuggEst example study, from an installed wheel or a source checkout."""
    package = Path(__file__).parents[1]  # the woz package
    for candidate in (
        package / "_demo" / "study.toml",
        package.parent / "examples" / "suggest_concierge" / "study.toml",
    ):
        if candidate.exists():
            return candidate
    raise CliError("the demo study is missing from this installation")


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


def raise_open_file_limit() -> int:
    """Raise the soft limit on open files to the hard limit; returns the limit now in force.

    Every waiting request holds a socket, so the soft limit (often 1,024) caps how many
    requests can wait for a human at once; past it, accepting fails with EMFILE. The
    hard limit is what the system lets this process have without privileges.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass  # some systems refuse RLIM_INFINITY as a soft limit: keep what we have
    return -1 if soft == resource.RLIM_INFINITY else int(soft)


async def _serve(
    studies: Study | StudySources,
    settings: Settings,
    banner: list[str] | None,
    *,
    worker: int | None = None,
) -> None:
    """Serve until SIGINT or SIGTERM; `worker` is this process's index under `--workers`
    (the port is shared, and only the first worker prints where woz is)."""
    open_files = raise_open_file_limit()
    log.info("woz.open_files", limit=open_files)
    app = create_app(studies, settings)
    app.cleanup_ctx.append(control_channel)  # `woz studies reload`, SIGHUP (in every worker)
    # Handlers are written to be cancelled (cleanup in `finally`, commits shielded), so
    # a client that leaves stops its handler at once instead of at the next poll.
    runner = web.AppRunner(
        app, access_log=None, handler_cancellation=True, shutdown_timeout=SHUTDOWN_GRACE_S
    )
    try:
        await runner.setup()
    except (MissingKey, StoreUnavailable, StudyFileError, RedisUnreachable) as exc:
        raise CliError(str(exc)) from exc
    site = web.TCPSite(runner, settings.host, settings.port, reuse_port=worker is not None)
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
    orphan_watch = asyncio.create_task(_stop_if_orphaned(stop)) if worker is not None else None
    # With --port 0 the system picks a free port: print the one actually bound.
    bound = runner.addresses[0][1] if runner.addresses else settings.port
    base = settings.public_url or f"http://{settings.host}:{bound}"
    if not worker:
        served = ", ".join(repr(study_id) for study_id in app[STUDIES].ids())
        print(
            f"woz is serving {_studies_word(app)} {served} at {base}/v1  (Ctrl+C stops)",
            flush=True,
        )
        for line in banner or []:
            print(line.replace("{base}", base), flush=True)
    try:
        await stop.wait()
    finally:
        if orphan_watch is not None:
            orphan_watch.cancel()
        await runner.cleanup()


ORPHAN_EXIT_S = 15.0  # a worker whose parent died gets this long to stop, then exits


async def _stop_if_orphaned(stop: asyncio.Event) -> None:
    """A worker of `--workers` stops when its parent is gone (killed): no worker may
    outlive `woz serve`. If stopping hangs, it exits anyway."""
    parent = os.getppid()
    while True:  # polled: no event tells a process that its parent died
        await asyncio.sleep(1.0)
        if os.getppid() != parent:
            break
    stop.set()
    asyncio.get_running_loop().call_later(ORPHAN_EXIT_S, os._exit, 1)


def cmd_demo(args: argparse.Namespace) -> None:
    settings = settings_from(args)
    study = load_study_file(str(demo_study_path()))
    *_, app_token = asyncio.run(new_key(settings, study, "app", "demo app"))
    *_, operator_token = asyncio.run(new_key(settings, study, "operator", "Demo operator"))
    *_, researcher_token = asyncio.run(new_key(settings, study, "researcher", "Demo researcher"))
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


def _studies_word(app: web.Application) -> str:
    return "study" if len(app[STUDIES].ids()) == 1 else "studies"


def _sources(args: argparse.Namespace) -> tuple[StudySources, list[Study]]:
    """The study files `serve` was given, each checked now (a bad one is one message)."""
    if not args.study and not args.studies:
        raise CliError("give the study to serve: --study FILE (repeatable) or --studies DIR")
    folder = Path(args.studies) if args.studies else None
    if folder is not None and not folder.is_dir():
        raise CliError(f"--studies {folder}: not a folder")
    sources = StudySources(files=tuple(Path(f) for f in args.study or []), folder=folder)
    loaded, failed = sources.load()
    if failed:
        raise CliError("\n".join(failed.values()))
    if not loaded:
        raise CliError(f"--studies {folder}: no study files (*.toml) in it")
    return sources, [study for study, _ in loaded]


def cmd_serve(args: argparse.Namespace) -> None:
    sources, studies = _sources(args)
    pages = [
        f"  Operator console  {{base}}{OPERATOR_LOGIN.home}",
        *(f"  Participant page  {{base}}{page_path(study.id)}" for study in studies),
        f"  Watch view        {{base}}{RESEARCHER_LOGIN.home}",
        *(
            f"  Study link        {study_link(study, '{base}' + page_path(study.id))}"
            f"   (for {study.recruitment.platform})"
            for study in studies
        ),
        "Operators and researchers log in with the link `woz keys create` prints for their key;",
        "a key opens its own study only. `woz studies reload` (or SIGHUP) re-reads the files.",
    ]
    settings = settings_from(args)
    workers = args.workers or 1
    try:
        check_workers(workers, settings)
    except WorkersRefused as exc:
        raise CliError(str(exc)) from exc
    if workers == 1:
        asyncio.run(_serve(sources, settings, pages))
        return
    try:
        asyncio.run(preflight(settings))
    except (StoreUnavailable, RedisUnreachable) as exc:
        raise CliError(str(exc)) from exc
    if settings.port == 0:  # the workers must share one port: pick it for them
        settings = settings.model_copy(update={"port": free_port(settings.host)})
    print(f"woz starts {workers} workers on port {settings.port}", flush=True)
    code = run_workers(workers, _worker, (sources, settings, pages))
    if code:
        raise CliError(f"a worker stopped with exit code {code}")


def _worker(index: int, sources: StudySources, settings: Settings, pages: list[str]) -> None:
    """One process of `woz serve --workers N` (started by `woz.cli.workers.run_workers`); each
    reads the study files itself, and reloads them on SIGHUP (`woz studies reload`)."""
    configure_logging(settings.log_level)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(sources, settings, pages, worker=index))


def _add_listen_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1, or WOZ_HOST)")
    parser.add_argument(
        "--port", type=int, help="port to listen on (default 8000, or WOZ_PORT; 0: any free one)"
    )


def add_serve_commands(commands: Any) -> None:
    """Add `demo` and `serve` to the `woz` command's subparsers."""
    demo = commands.add_parser("demo", help="serve the example study, ready to try")
    _add_listen_options(demo)
    demo.set_defaults(func=cmd_demo)

    serve = commands.add_parser("serve", help="serve one study or several")
    serve.add_argument(
        "--study", action="append", metavar="FILE", help="a study file (TOML); repeat for more"
    )
    serve.add_argument(
        "--studies", metavar="DIR", help="serve every study file (*.toml) in this folder"
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WOZ_WORKERS", "1")),
        help="server processes sharing the port (default 1, or WOZ_WORKERS); more than one"
        " needs --database-url and --redis-url",
    )
    _add_listen_options(serve)
    serve.set_defaults(func=cmd_serve)
