"""The studies one deployment serves, where their files are, and reloading them.

`woz serve --study a.toml --study b.toml` or `--studies DIR` (every `*.toml` in it)
names the files; tests and `woz demo` may give studies as objects, which are served
as they are and never reloaded. Every study has one `StudyRuntime`, found by id.

`reload` reads the files again and, study by study, applies what the rules of
`woz.study.reload` allow: a study that changed and may change is swapped in; one
whose change would break running work, or whose file no longer loads, is refused
with the reasons and keeps being served as it was. A new file in the folder is a
new study; a file gone from the folder retires its study once nothing is running
in it. Reloads run one at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import aiohttp
import structlog

from woz.assist.upstream import MissingKey
from woz.dispatch.factory import StudyStates
from woz.media.files import MediaFolder
from woz.models.study import Study
from woz.research.service import keep_definition
from woz.runtime import StudyRuntime, open_runtime
from woz.store.base import Store
from woz.study import StudyFileError, load_study
from woz.study.reload import refusals

log = structlog.get_logger(__name__)

Outcome = Literal["added", "reloaded", "unchanged", "refused", "retired"]


@dataclass(frozen=True)
class StudySources:
    """Where the served studies come from: files, a folder of files, or objects."""

    files: tuple[Path, ...] = ()
    folder: Path | None = None
    given: tuple[Study, ...] = ()

    @classmethod
    def of(cls, studies: Study | Iterable[Study]) -> StudySources:
        return cls(given=(studies,) if isinstance(studies, Study) else tuple(studies))

    def paths(self) -> list[Path]:
        """The files to read now: those named, then the folder's `*.toml`, by name; a file
        named twice is read once."""
        found = sorted(self.folder.glob("*.toml")) if self.folder is not None else []
        unique: dict[Path, Path] = {}
        for path in [*self.files, *found]:
            unique.setdefault(path.resolve(), path)
        return list(unique.values())

    def load(self) -> tuple[list[tuple[Study, Path | None]], dict[Path, str]]:
        """Every study, with its file; and the files that failed, with why."""
        loaded: list[tuple[Study, Path | None]] = [(study, None) for study in self.given]
        failed: dict[Path, str] = {}
        where: dict[str, Path | None] = {study.id: None for study in self.given}
        for path in self.paths():
            try:
                study = load_study(path)
            except StudyFileError as exc:
                failed[path] = str(exc)
                continue
            if study.id in where:
                other = where[study.id]
                failed[path] = (
                    f"{path}: study id {study.id!r} is already served"
                    + (f" from {other}" if other else "")
                    + "; every study needs its own id"
                )
                continue
            where[study.id] = path
            loaded.append((study, path))
        return loaded, failed


@dataclass(frozen=True)
class StudyReload:
    """What a reload did with one study (or one file that names none)."""

    study_id: str | None
    source: str | None
    outcome: Outcome
    reasons: tuple[str, ...] = ()

    def line(self) -> str:
        name = repr(self.study_id) if self.study_id else self.source or "?"
        text = f"study {name}: {self.outcome}"
        return text + (": " + "; ".join(self.reasons) if self.reasons else "")


class ServedStudies:
    """The runtimes of every served study, by id."""

    def __init__(
        self, sources: StudySources, store: Store, media: MediaFolder, states: StudyStates
    ) -> None:
        self.sources = sources
        self._states = states
        self._store = store
        self._media = media
        self._runtimes: dict[str, StudyRuntime] = {}
        self._session: aiohttp.ClientSession | None = None
        self._lock = asyncio.Lock()

    def get(self, study_id: str) -> StudyRuntime | None:
        return self._runtimes.get(study_id)

    def __iter__(self) -> Iterator[StudyRuntime]:
        return iter(list(self._runtimes.values()))

    def ids(self) -> list[str]:
        return list(self._runtimes)

    async def open(self, session: aiohttp.ClientSession) -> None:
        """Serve every study; a file that does not load refuses the start (`StudyFileError`),
        and so does a study whose upstream's key is missing (`MissingKey`)."""
        self._session = session
        loaded, failed = self.sources.load()
        if failed:
            raise StudyFileError("\n".join(failed.values()))
        if not loaded:
            raise StudyFileError(f"no study files (*.toml) in {self.sources.folder}")
        for study, source in loaded:
            self._runtimes[study.id] = await open_runtime(
                self._store, study, source, self._media, session, self._states
            )
        log.info("woz.studies", studies=self.ids())

    async def reload(self) -> list[StudyReload]:
        """Read the study files again and apply what may be applied (see module doc)."""
        async with self._lock:
            report = await self._reload()
        for entry in report:
            log_event = log.warning if entry.outcome == "refused" else log.info
            log_event(
                "study.reload", study=entry.study_id, outcome=entry.outcome, reasons=entry.reasons
            )
        return report

    async def _reload(self) -> list[StudyReload]:
        assert self._session is not None, "open() first"
        loaded, failed = self.sources.load()
        report: list[StudyReload] = []
        by_source = {rt.source: rt for rt in self._runtimes.values() if rt.source is not None}
        seen: set[str] = set()
        for study, source in loaded:
            previous = by_source.get(source) if source is not None else None
            if previous is not None and previous.id != study.id:
                reasons = refusals(previous.study, study, await previous.work(0, 0))
                report.append(StudyReload(previous.id, str(source), "refused", tuple(reasons)))
                seen.add(previous.id)
                continue
            seen.add(study.id)
            runtime = self._runtimes.get(study.id)
            if runtime is None:
                report.append(await self._add(study, source))
            else:
                runtime.source = source
                report.append(await self._change(runtime, study))
        for path, problem in failed.items():
            runtime = by_source.get(path)
            if runtime is not None:
                seen.add(runtime.id)
                kept = f"{problem} (the study stays as it was)"
                report.append(StudyReload(runtime.id, str(path), "refused", (kept,)))
            else:
                report.append(StudyReload(None, str(path), "refused", (problem,)))
        for runtime in list(self._runtimes.values()):
            if runtime.id not in seen:
                report.append(await self._retire(runtime))
        return report

    async def _add(self, study: Study, source: Path | None) -> StudyReload:
        assert self._session is not None
        where = str(source) if source else None
        try:
            runtime = await open_runtime(
                self._store, study, source, self._media, self._session, self._states
            )
        except MissingKey as exc:
            return StudyReload(study.id, where, "refused", (str(exc),))
        self._runtimes[study.id] = runtime
        return StudyReload(study.id, where, "added")

    async def _change(self, runtime: StudyRuntime, study: Study) -> StudyReload:
        assert self._session is not None
        where = str(runtime.source) if runtime.source else None
        if study == runtime.study:
            return StudyReload(study.id, where, "unchanged")
        participants = await self._store.participant_count(study.id)
        with_arms = sum((await self._store.arm_counts(study.id)).values())
        reasons = refusals(runtime.study, study, await runtime.work(participants, with_arms))
        if reasons:
            return StudyReload(study.id, where, "refused", tuple(reasons))
        fresh = None
        if study.routing != runtime.study.routing:  # allowed only when idle (`refusals`)
            fresh = runtime.new_dispatcher(study)
            await fresh.open()
        try:
            retired = runtime.swap(study, self._session, fresh)
        except MissingKey as exc:
            if fresh is not None:
                await fresh.close()
            return StudyReload(study.id, where, "refused", (str(exc),))
        await keep_definition(self._store, study)
        if retired is not None:
            await retired.close()
        return StudyReload(study.id, where, "reloaded")

    async def _retire(self, runtime: StudyRuntime) -> StudyReload:
        """The study's file is gone from the folder: stop serving it, once it is idle."""
        where = str(runtime.source) if runtime.source else None
        work = await runtime.work(0, 0)
        in_flight = sum(work.in_flight_by_persona.values())
        if in_flight or work.operators_connected:
            reason = (
                f"its file is gone, but {in_flight} task(s) are in flight and"
                f" {work.operators_connected} operator(s) connected; it stays until they are done"
            )
            return StudyReload(runtime.id, where, "refused", (reason,))
        del self._runtimes[runtime.id]
        await runtime.close(self._states)
        return StudyReload(runtime.id, where, "retired")

    async def close(self) -> None:
        for runtime in list(self._runtimes.values()):
            await runtime.close(self._states)
        self._runtimes.clear()
