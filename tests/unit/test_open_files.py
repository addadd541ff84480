"""`woz serve` raises its soft open-file limit to the hard one: each waiting request
holds a socket."""

from __future__ import annotations

import resource
from collections.abc import Iterator

import pytest

from woz.cli.serve import raise_open_file_limit


@pytest.fixture
def limits() -> Iterator[tuple[int, int]]:
    before = resource.getrlimit(resource.RLIMIT_NOFILE)
    yield before
    resource.setrlimit(resource.RLIMIT_NOFILE, before)


def test_the_soft_limit_rises_to_the_hard_limit(limits: tuple[int, int]) -> None:
    _, hard = limits
    if hard == resource.RLIM_INFINITY or hard < 64:
        pytest.skip("needs a finite hard limit of at least 64 open files")
    resource.setrlimit(resource.RLIMIT_NOFILE, (32, hard))
    assert raise_open_file_limit() == hard
    assert resource.getrlimit(resource.RLIMIT_NOFILE) == (hard, hard)


def test_a_soft_limit_already_at_the_hard_limit_stays(limits: tuple[int, int]) -> None:
    _, hard = limits
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    assert raise_open_file_limit() == (-1 if hard == resource.RLIM_INFINITY else hard)
