"""When an operator's socket is given up on: stalled, or backed up past the bound too long."""

from __future__ import annotations

from woz.config import Settings
from woz.operators.backlog import MIB, BacklogWatch, SendLimits

LIMITS = SendLimits(max_backlog_bytes=1000, stall_s=4.0)


class Clock:
    """Time that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def watch_with_clock() -> tuple[BacklogWatch, Clock]:
    clock = Clock()
    return BacklogWatch(LIMITS, clock), clock


def test_limits_come_from_the_settings() -> None:
    limits = SendLimits.of(Settings(operator_send_buffer_mib=0.5, operator_stall_s=2.0))
    assert limits == SendLimits(max_backlog_bytes=MIB // 2, stall_s=2.0)
    assert limits.check_every_s == 0.5
    assert SendLimits.of(Settings()) == SendLimits(max_backlog_bytes=16 * MIB, stall_s=5.0)


def test_a_socket_that_sends_nothing_of_its_frames_is_stalled_after_the_stall_time() -> None:
    watch, clock = watch_with_clock()
    for _ in range(4):  # 0 s, 1 s, 2 s, 3 s: the same 500 bytes sit in the socket's buffer
        assert watch.check(waiting=True, frames_sent=3, queued=0, buffered=500) is None
        clock.now += 1.0
    assert watch.check(waiting=True, frames_sent=3, queued=0, buffered=500) == "stalled"


def test_bytes_going_out_count_as_progress() -> None:
    watch, clock = watch_with_clock()
    for buffered in (900, 899, 898, 897, 896):  # a byte every 3 s: slow, but moving
        assert watch.check(waiting=True, frames_sent=0, queued=0, buffered=buffered) is None
        clock.now += 3.0


def test_frames_finishing_count_as_progress() -> None:
    watch, clock = watch_with_clock()
    for frames_sent in range(5):  # the buffer refills to the same size with each frame
        assert watch.check(waiting=True, frames_sent=frames_sent, queued=0, buffered=900) is None
        clock.now += 3.0


def test_an_idle_socket_is_never_stalled() -> None:
    watch, clock = watch_with_clock()
    for _ in range(5):
        clock.now += 10.0
        assert watch.check(waiting=False, frames_sent=0, queued=0, buffered=7) is None


def test_a_backlog_over_the_bound_for_the_stall_time_is_backed_up_though_it_moves() -> None:
    watch, clock = watch_with_clock()
    buffered = 900
    for _ in range(4):
        assert watch.check(waiting=True, frames_sent=0, queued=5000, buffered=buffered) is None
        clock.now += 1.0
        buffered -= 100  # a trickle goes out: not stalled
    assert watch.check(waiting=True, frames_sent=0, queued=5000, buffered=buffered) == "backed_up"


def test_a_burst_past_the_bound_that_drains_in_time_is_kept() -> None:
    watch, clock = watch_with_clock()
    assert watch.check(waiting=True, frames_sent=0, queued=50_000, buffered=900) is None
    clock.now += 3.0
    assert watch.check(waiting=True, frames_sent=20, queued=200, buffered=700) is None
    clock.now += 3.0  # over the bound again, but only since now
    assert watch.check(waiting=True, frames_sent=21, queued=5000, buffered=700) is None
    clock.now += 3.9
    assert watch.check(waiting=True, frames_sent=22, queued=5000, buffered=700) is None
