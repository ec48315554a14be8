"""QueueState: pure, synchronous, with an explicit clock (no event loop, no sleeps)."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

import pytest

from ttsgate.engines.base import SynthesisInput
from ttsgate.exceptions import OverloadedError, RequestTimeoutError
from ttsgate.scheduler.deadline import Playback
from ttsgate.scheduler.state import Job, QueueState, Work
from ttsgate.text import expected_speech_s


def make_job(
    text: str,
    now: float = 0.0,
    *,
    key: str = "k",
    deadline: float | None = None,
    playback: Playback | None = None,
    segment: int = 0,
) -> Job:
    """A job of its own one-segment stream started at ``now`` (or of segment ``segment`` of ``playback``)."""
    waiter: Future[Any] = Future()
    if playback is None:
        playback = Playback(now, 1.0)
        playback.add(expected_speech_s(text))
    return Job(
        item=SynthesisInput(text=text, language="en"),
        key=key,
        waiter=waiter,
        enqueued=now,
        playback=playback,
        segment=segment,
        unit=(segment, 0),
        deadline=deadline,
    )


def stream(state: QueueState, start: float, seconds: list[float], *, target: float = 1.0) -> Playback:
    """Admit a stream at ``start`` whose segments have ``seconds`` of speech each (14 chars/s)."""
    pb = Playback(start, target)
    for s in seconds:
        pb.add(s)
    state.admit(pb, [Work((k, 0), k, s) for k, s in enumerate(seconds)], start)
    return pb


def paced(pace: float, *, workers: int = 1, overrun: float = 0.0, **kw: Any) -> QueueState:
    """A state whose engine takes ``pace`` seconds per second of speech, exactly as estimated
    (``overrun`` 0: no safety margin, unless given)."""
    state = QueueState(
        name="e",
        max_queue=kw.pop("max_queue", 1000),
        max_batch_size=1,
        max_wait_ms=0,
        workers=workers,
        pace=pace,
        **kw,
    )
    state.work.overrun = overrun
    return state


def texts(batch: list[Job] | None) -> list[str]:
    assert batch is not None
    return [j.item.text for j in batch]


def new_state(max_queue: int = 64, max_batch_size: int = 4, max_wait_ms: float = 10.0) -> QueueState:
    return QueueState(name="e", max_queue=max_queue, max_batch_size=max_batch_size, max_wait_ms=max_wait_ms)


def test_full_batch_released_at_once_and_capped() -> None:
    s = new_state(max_batch_size=4, max_wait_ms=1000)
    for i in range(6):
        s.append(make_job(f"t{i}"))
    assert texts(s.next_batch(0.0)) == ["t0", "t1", "t2", "t3"]
    # two left: not full, not waited long enough
    assert s.next_batch(0.5) is None
    assert s.next_wakeup(0.5) == pytest.approx(0.5)
    assert texts(s.next_batch(1.0)) == ["t4", "t5"]
    assert s.next_batch(1.0) is None
    assert s.next_wakeup(1.0) is None


def test_wait_time_release_from_oldest_job() -> None:
    s = new_state(max_batch_size=4, max_wait_ms=10)
    s.append(make_job("a", 0.0))
    s.append(make_job("b", 0.008))
    assert s.next_batch(0.005) is None
    assert s.next_wakeup(0.005) == pytest.approx(0.005)
    assert texts(s.next_batch(0.010)) == ["a", "b"]


def test_zero_wait_releases_whatever_is_there() -> None:
    s = new_state(max_batch_size=8, max_wait_ms=0)
    s.append(make_job("a"))
    assert texts(s.next_batch(0.0)) == ["a"]


def test_only_equal_keys_share_a_batch() -> None:
    s = new_state(max_batch_size=4, max_wait_ms=0)
    s.append(make_job("a1", key="a"))
    s.append(make_job("b1", key="b"))
    s.append(make_job("a2", key="a"))
    s.append(make_job("b2", key="b"))
    assert texts(s.next_batch(0.0)) == ["a1", "a2"]
    assert texts(s.next_batch(0.0)) == ["b1", "b2"]


def test_a_full_group_goes_before_an_unripe_one() -> None:
    s = new_state(max_batch_size=2, max_wait_ms=100)
    s.append(make_job("a1", key="a"))
    s.append(make_job("b1", key="b"))
    s.append(make_job("b2", key="b"))
    assert texts(s.next_batch(0.0)) == ["b1", "b2"]
    assert s.next_batch(0.05) is None
    assert texts(s.next_batch(0.1)) == ["a1"]


def test_cancelled_jobs_are_skipped_and_dropped() -> None:
    s = new_state(max_batch_size=4, max_wait_ms=0)
    a, b, c = make_job("a"), make_job("b"), make_job("c")
    for j in (a, b, c):
        s.append(j)
    assert b.waiter.done() is False
    b.waiter.cancel()  # type: ignore[attr-defined]
    assert texts(s.next_batch(0.0)) == ["a", "c"]
    assert s.dropped_total == 1
    assert len(s) == 0


def test_discard_removes_a_waiting_job() -> None:
    s = new_state()
    a = make_job("a")
    s.append(a)
    assert s.discard(a) is True
    assert s.discard(a) is False
    assert len(s) == 0


def test_expired_jobs_fail_with_timeout_instead_of_running() -> None:
    s = new_state(max_batch_size=4, max_wait_ms=0)
    late = make_job("late", deadline=1.0)
    ok = make_job("ok", deadline=10.0)
    s.append(late)
    s.append(ok)
    assert texts(s.next_batch(2.0)) == ["ok"]
    waiter: Future[Any] = late.waiter  # type: ignore[assignment]
    assert isinstance(waiter.exception(timeout=0), RequestTimeoutError)
    assert s.expired_total == 1


def test_next_wakeup_includes_deadlines() -> None:
    s = new_state(max_batch_size=4, max_wait_ms=1000)
    s.append(make_job("a", 0.0, deadline=0.3))
    assert s.next_wakeup(0.1) == pytest.approx(0.2)


def test_bound_refuses_new_streams_with_retry_after() -> None:
    s = new_state(max_queue=3, max_batch_size=1, max_wait_ms=0)
    for i in range(3):
        s.append(make_job(f"t{i}", 0.0))
    with pytest.raises(OverloadedError) as info:
        stream(s, 0.0, [1.0])
    assert info.value.code == "queue_full"
    assert 1.0 <= info.value.retry_after_s <= 60.0
    assert s.rejected_total == 1
    assert s.streams == 0  # a refused stream reserves nothing


def test_retry_after_follows_the_drain_rate() -> None:
    s = new_state(max_queue=100, max_batch_size=1, max_wait_ms=0)
    for i in range(20):
        s.append(make_job(f"t{i}", 0.0))
    # drain 10 jobs over 10 s: 1 job/s
    for t in range(10):
        assert s.next_batch(float(t + 1)) is not None
    assert s.drain_rate(10.0) == pytest.approx(1.0, rel=0.15)
    assert s.retry_after(10.0) == pytest.approx(10.0, abs=2.0)  # 10 queued at ~1/s
    for i in range(200):
        s.append(make_job(f"u{i}", 10.0))
    assert s.retry_after(10.0) == 60.0  # clamped
    fast = new_state(max_queue=100, max_batch_size=50, max_wait_ms=0)
    for i in range(51):
        fast.append(make_job(f"f{i}", 0.0))
    fast.next_batch(0.0)
    assert fast.retry_after(0.0) == 1.0  # 1 queued, 50/s: clamped up


def test_cancelled_jobs_free_their_place_in_the_bound() -> None:
    s = new_state(max_queue=1)
    a = make_job("a")
    s.append(a)
    a.waiter.cancel()  # type: ignore[attr-defined]
    stream(s, 0.0, [1.0])  # no OverloadedError
    assert len(s) == 0


# -- earliest deadline first -------------------------------------------------------------------


def test_jobs_run_earliest_playback_deadline_first() -> None:
    s = paced(0.1)
    a = stream(s, 0.0, [2.0, 2.0, 2.0, 2.0])  # due 1, 2, 4, 6
    for k in (1, 2, 3):
        s.append(make_job(f"A{k}", 0.5, playback=a, segment=k))
    b = stream(s, 1.5, [2.0, 2.0])  # due 2.5, 3.5
    s.append(make_job("B1", 1.5, playback=b, segment=1))
    s.append(make_job("B0", 1.6, playback=b, segment=0))
    order = [texts(s.next_batch(1.6))[0] for _ in range(2)]
    # B's first segment (due 2.5) goes before A's later ones that still have slack, though queued last
    assert order == ["A1", "B0"]
    # B1 is held while B0 runs without audio out (issue #15: not beside its own first segment) ...
    assert texts(s.next_batch(1.6)) == ["A2"]
    b.started(1.7)  # ... until B's first audio is out
    order = [texts(s.next_batch(1.7))[0] for _ in range(2)]
    assert order == ["B1", "A3"]


def test_a_delivered_first_segment_moves_the_later_deadlines() -> None:
    pb = Playback(10.0, 1.0)
    for s in (1.0, 2.0, 3.0):
        pb.add(s)
    # before delivery: as if playing from the start (never before the first segment's 11.0)
    assert [pb.deadline(k) for k in range(3)] == [11.0, 11.0, 13.0]
    pb.delivered(0, 1.5, 10.4)  # arrived early and was longer than expected
    assert pb.deadline(1) == pytest.approx(11.9)
    assert pb.deadline(2) == pytest.approx(14.9)  # 1.5× its expected length: so is the next one
    pb.delivered(1, 2.5, 11.0)
    assert pb.deadline(2) == pytest.approx(14.4)


def test_the_most_urgent_job_picks_the_batch_group() -> None:
    s = QueueState(max_queue=100, max_batch_size=4, max_wait_ms=0, pace=0.1)
    late = stream(s, 0.0, [5.0, 5.0])
    s.append(make_job("x-later", 0.0, key="x", playback=late, segment=1))  # due 6
    s.append(make_job("y-first", 0.5, key="y"))  # due 1.5
    s.append(make_job("x-first", 0.9, key="x"))  # due 1.9
    assert texts(s.next_batch(1.0)) == ["y-first"]
    assert texts(s.next_batch(1.0)) == ["x-first", "x-later"]  # most urgent first within the batch


def test_segments_finished_after_their_deadline_count_as_missed() -> None:
    s = paced(0.1)
    s.append(make_job("on time", 0.0))  # due 1.0
    s.append(make_job("too late", 0.0))
    first = s.next_batch(0.0)
    assert first is not None
    assert s.finished(first, 0.5) == 0
    second = s.next_batch(0.5)
    assert second is not None
    assert s.finished(second, 1.2) == 1
    assert s.missed_total == 1


# -- admission by real-time feasibility --------------------------------------------------------


def run(s: QueueState, pb: Playback, segment: int, t0: float, t1: float) -> None:
    """Segment ``segment`` of ``pb`` (2 s of speech) runs from ``t0`` to ``t1``."""
    job = make_job("x" * 28, t0, playback=pb, segment=segment)
    s.append(job)
    assert s.next_batch(t0) == [job]
    s.finished([job], t1)


def test_streams_are_admitted_while_every_listener_can_be_served_in_real_time() -> None:
    # pace 0.25, one worker: a stream of 4 × 2 s of speech costs 0.5 s a segment, due 1, 2, 4, 6
    # (until its first audio is out, as if it played from the start: a cached first segment does)
    s = paced(0.25)
    a = stream(s, 0.0, [2.0] * 4)
    b = stream(s, 0.0, [2.0] * 4)  # done 0.5, 1.0, 1.5, 2.0, ...: every listener in time
    with pytest.raises(OverloadedError) as info:  # a third first segment would end at 1.5, due 1.0
        stream(s, 0.0, [2.0] * 4)
    assert info.value.code == "realtime"
    assert info.value.retry_after_s == 1.0
    assert s.streams == 2
    for k, pb in enumerate((a, b, a, b)):  # A0, B0, A1, B1 run back to back
        run(s, pb, k // 2, 0.5 * k, 0.5 * (k + 1))
    stream(s, 2.0, [2.0] * 4)  # later it fits: due 3, 4, 6, 8 between A's and B's 4 and 6
    with pytest.raises(OverloadedError):  # one more would push an accepted segment 0.5 s late
        stream(s, 2.0, [2.0] * 4)
    assert s.rejected_total == 2


def test_a_refusal_with_no_other_stream_says_what_holds_the_engine() -> None:
    """A stream that ended leaves its running segment behind: the refusal says so, not "0 streams"."""
    s = paced(0.5)
    gone = stream(s, 0.0, [4.0])
    job = make_job("x" * 56, 0.0, playback=gone, segment=0)  # 4 s of speech: busy until 2.0
    s.append(job)
    assert s.next_batch(0.0) == [job]
    s.close_stream(gone)  # the client left; its segment still runs
    assert s.streams == 0
    with pytest.raises(OverloadedError) as info:
        stream(s, 0.1, [2.0])  # its first audio could not come before 3.0, due 1.1
    assert info.value.code == "realtime"
    assert "0 streams" not in info.value.message
    assert "synthesis already under way" in info.value.message


def test_every_worker_counts() -> None:
    s = paced(0.5, workers=2)
    stream(s, 0.0, [2.0] * 4)
    stream(s, 0.0, [2.0] * 4)
    with pytest.raises(OverloadedError):
        stream(s, 0.0, [2.0] * 4)


def test_a_new_stream_may_not_push_an_accepted_one_past_its_deadlines() -> None:
    s = paced(0.5)
    stream(s, 0.0, [0.2, 1.6, 3.6])  # costs 0.1, 0.8, 1.8, due 1.0, 1.2, 2.8: done 0.1, 0.9, 2.7
    with pytest.raises(OverloadedError):  # its own segment (due 1.0, done 0.3) fits, the 3rd would not
        stream(s, 0.0, [0.4])
    stream(s, 0.0, [0.1])  # 0.05 s more: within the estimate's tolerance


def test_the_whole_request_counts_even_when_its_segments_are_shared() -> None:
    # 40 requests that start with the same sentence: single-flight runs that sentence once, but
    # each request's own work is reserved in full until it is served, so the bound holds.
    s = paced(0.1)
    accepted = 0
    for _ in range(40):
        try:
            stream(s, 0.0, [1.0, 4.0, 4.0, 4.0])  # 1.3 s of work each, last due 10
        except OverloadedError:
            continue
        accepted += 1
    # Each request's second segment is due as soon as its 1 s first one has played, which a shared
    # (already synthesized) first sentence does at once: 2 × (0.1 + 0.4) s fit in the first second.
    assert accepted == 2


@pytest.mark.parametrize("how", ["release", "close"])
def test_released_or_closed_work_frees_capacity(how: str) -> None:
    s = paced(0.5)
    a = stream(s, 0.0, [2.0] * 4)
    with pytest.raises(OverloadedError):
        stream(s, 0.0, [2.0] * 4)
    if how == "release":  # each segment served from the cache or another request's synthesis
        for k in range(4):
            s.release(a, (k, 0))
    else:  # the client left
        s.close_stream(a)
    stream(s, 0.0, [2.0] * 4)


def test_running_work_counts_and_a_started_job_is_no_longer_reserved() -> None:
    s = paced(0.5)
    a = stream(s, 0.0, [4.0])  # 2 s of work due at 1.0: late from the start, admitted (nothing else)
    s.append(make_job("x" * 56, 0.0, playback=a))  # 4 s of speech
    assert s.next_batch(0.0) is not None
    assert s.streams == 0  # nothing left reserved: its one job runs
    with pytest.raises(OverloadedError):  # the running 2 s is ahead of anything new
        stream(s, 0.1, [1.0])
    stream(s, 1.6, [1.0])  # 0.4 s still running + 0.5 s: done by 2.5 < 2.6


def test_a_stream_already_behind_does_not_block_others() -> None:
    # A client that reads slowly: its next segments' deadlines passed long ago. A new stream that
    # does not delay them is still admitted.
    s = paced(0.1)
    slow = stream(s, 0.0, [2.0] * 3)
    slow.delivered(0, 2.0, 0.1)  # its player "should" be at 30 s; deadlines 2.1, 4.1 are long past
    stream(s, 30.0, [2.0, 2.0])  # due 31, 33: done 30.8 and 31.0 after the slow stream's 0.6 s


def test_live_streams_grow_without_refusal() -> None:
    s = paced(0.5)
    live = stream(s, 0.0, [2.0])
    for k in range(1, 20):
        live.add(2.0)
        s.reserve(live, [Work((k, 0), k, 2.0)])  # reserved as the text arrives: never refused
    with pytest.raises(OverloadedError):
        stream(s, 0.0, [1.0])


def test_admission_needs_a_measured_pace() -> None:
    s = new_state()
    for _ in range(10):
        stream(s, 0.0, [10.0])  # pace unknown: only the count bound applies
    assert s.streams == 10


def test_realtime_admission_can_be_turned_off() -> None:
    s = paced(0.5, realtime=False)
    for _ in range(10):
        stream(s, 0.0, [10.0])


def test_invalid_limits() -> None:
    with pytest.raises(ValueError, match="max_queue"):
        QueueState(max_queue=0, max_batch_size=1, max_wait_ms=0)


def test_admission_by_expected_wait_uses_the_measured_pace() -> None:
    state = QueueState(
        name="e", max_queue=100, max_batch_size=1, max_wait_ms=0, max_queue_wait_s=1.0, realtime=False
    )
    sentence = "x" * 28  # ~2 s of expected speech (14 characters per second)
    state.append(make_job(sentence, 0.0))
    assert state.expected_wait(0.0) is None  # no batch measured yet: only the count bound applies
    batch = state.next_batch(0.0)
    assert batch is not None
    state.finished(batch, 1.0)  # 2 s of speech in 1 s: pace 0.5
    assert state.work.pace == pytest.approx(0.5)
    stream(state, 1.0, [2.0])  # nothing ahead
    state.append(make_job(sentence, 1.0))
    stream(state, 1.0, [2.0])  # 1 s ahead: admitted (not more than 1 s)
    state.append(make_job(sentence, 1.0))
    assert state.expected_wait(1.0) == pytest.approx(2.0)
    with pytest.raises(OverloadedError) as refused:
        stream(state, 1.0, [1.0])
    assert "TTSGATE_MAX_QUEUE_WAIT_S=1" in refused.value.message
    assert refused.value.retry_after_s == 2.0
    running = state.next_batch(1.0)  # one starts: what is left of it shrinks as it runs
    assert running is not None
    assert state.expected_wait(1.5) == pytest.approx(1.5)
    assert state.expected_wait(2.2) == pytest.approx(1.0)  # overdue: counts as done, not negative
    stream(state, 2.2, [1.0])  # admitted again
    state.finished(running, 2.5, ok=False)  # a failed batch does not move the pace
    assert state.work.pace == pytest.approx(0.5)


def test_expected_wait_is_shared_by_the_workers() -> None:
    state = QueueState(name="e", max_queue=100, max_batch_size=1, max_wait_ms=0, workers=2)
    state.append(make_job("x" * 14, 0.0))
    first = state.next_batch(0.0)
    assert first is not None
    state.finished(first, 1.0)  # pace 1.0
    for _ in range(4):
        state.append(make_job("x" * 14, 1.0))  # 4 × 1 s of work, 2 workers
    assert state.expected_wait(1.0) == pytest.approx(2.0)


def test_batches_that_overrun_their_estimate_make_admission_careful() -> None:
    s = paced(0.5, overrun=0.25)  # a new engine: 50 % margin until batches show otherwise
    first = stream(s, 0.0, [0.5] * 4)  # 0.25 s a segment (0.375 with the margin), due 1, 1, 1.5, 2
    with pytest.raises(OverloadedError):  # one more segment due 1.0 would end at 1.125
        stream(s, 0.0, [0.5])
    for t in range(20):  # batches that take what was estimated: the margin fades
        job = make_job("x" * 14, float(t))  # 1 s of speech: 0.5 s
        s.append(job)
        assert s.next_batch(float(t)) == [job]
        s.finished([job], t + 0.5)
    assert s.work.overrun < 0.05
    s.close_stream(first)
    stream(s, 20.0, [0.5] * 4)
    stream(s, 20.0, [0.5])  # now it fits: 3 × 0.25 s by 21.0
