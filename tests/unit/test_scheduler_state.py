"""QueueState: pure, synchronous, with an explicit clock (no event loop, no sleeps)."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

import pytest

from ttsgate.engines.base import SynthesisInput
from ttsgate.exceptions import OverloadedError, RequestTimeoutError
from ttsgate.scheduler.state import Job, QueueState


def make_job(
    text: str,
    now: float = 0.0,
    *,
    key: str = "k",
    priority: int = 1,
    deadline: float | None = None,
) -> Job:
    waiter: Future[Any] = Future()
    return Job(
        item=SynthesisInput(text=text, language="en"),
        key=key,
        waiter=waiter,
        enqueued=now,
        priority=priority,
        deadline=deadline,
    )


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


def test_first_segments_go_ahead_of_later_ones_fifo_within_class() -> None:
    s = new_state(max_batch_size=2, max_wait_ms=0)
    s.append(make_job("late1", priority=1))
    s.append(make_job("late2", priority=1))
    s.append(make_job("first1", priority=0))
    s.append(make_job("late3", priority=1))
    s.append(make_job("first2", priority=0))
    assert texts(s.next_batch(0.0)) == ["first1", "first2"]
    assert texts(s.next_batch(0.0)) == ["late1", "late2"]
    assert texts(s.next_batch(0.0)) == ["late3"]


def test_priority_picks_the_group_too() -> None:
    s = new_state(max_batch_size=4, max_wait_ms=0)
    s.append(make_job("x-late", key="x", priority=1))
    s.append(make_job("y-first", key="y", priority=0))
    assert texts(s.next_batch(0.0)) == ["y-first"]


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


def test_bound_refuses_new_requests_with_retry_after() -> None:
    s = new_state(max_queue=3, max_batch_size=1, max_wait_ms=0)
    for i in range(3):
        s.append(make_job(f"t{i}", 0.0))
    with pytest.raises(OverloadedError) as info:
        s.append(make_job("refused", 0.0))
    assert 1.0 <= info.value.retry_after_s <= 60.0
    assert s.rejected_total == 1
    assert len(s) == 3


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
        s.append(make_job(f"u{i}", 10.0), admit=False)
    assert s.retry_after(10.0) == 60.0  # clamped
    fast = new_state(max_queue=100, max_batch_size=50, max_wait_ms=0)
    for i in range(51):
        fast.append(make_job(f"f{i}", 0.0))
    fast.next_batch(0.0)
    assert fast.retry_after(0.0) == 1.0  # 1 queued, 50/s: clamped up


def test_follow_up_jobs_bypass_the_bound() -> None:
    s = new_state(max_queue=2, max_batch_size=8, max_wait_ms=0)
    s.append(make_job("a"))
    s.append(make_job("b"))
    with pytest.raises(OverloadedError):
        s.append(make_job("new request"))
    s.append(make_job("follow-up"), admit=False)
    assert texts(s.next_batch(0.0)) == ["a", "b", "follow-up"]


def test_cancelled_jobs_free_their_place_in_the_bound() -> None:
    s = new_state(max_queue=1)
    a = make_job("a")
    s.append(a)
    a.waiter.cancel()  # type: ignore[attr-defined]
    s.append(make_job("b"))  # no OverloadedError
    assert len(s) == 1


def test_invalid_limits() -> None:
    with pytest.raises(ValueError, match="max_queue"):
        QueueState(max_queue=0, max_batch_size=1, max_wait_ms=0)


def test_later_segments_that_waited_past_the_head_start_are_not_overtaken() -> None:
    from concurrent.futures import Future

    from ttsgate.engines.base import SynthesisInput
    from ttsgate.scheduler.state import Job, QueueState

    state = QueueState(max_queue=10, max_batch_size=1, max_wait_ms=0, head_start_s=2.0)

    def job(text: str, at: float, priority: int) -> Job:
        return Job(item=SynthesisInput(text, "zh"), key="k", waiter=Future(), enqueued=at, priority=priority)

    old_later = job("old later segment", 0.0, 1)
    recent_later = job("recent later segment", 9.0, 1)
    first = job("new first segment", 10.0, 0)
    for j in (old_later, recent_later, first):
        state.append(j)
    order = [state.next_batch(10.0)[0].item.text for _ in range(3)]  # type: ignore[index]
    # waited 10 s > head start: keeps its turn; waited 1 s < head start: the first segment jumps it
    assert order == ["old later segment", "new first segment", "recent later segment"]


def test_virtual_start_time_orders_requests_segment_by_segment() -> None:
    state = QueueState(max_queue=10, max_batch_size=1, max_wait_ms=0)
    state.append(make_job("x" * 14))  # 1 s of speech
    warm = state.next_batch(0.0)
    assert warm is not None
    state.finished(warm, 0.1)  # pace 0.1: one second of speech takes 0.1 s

    def job(text: str, since: float, before: float, priority: int = 1) -> Job:
        j = Job(SynthesisInput(text, "en"), "k", Future(), enqueued=5.0, priority=priority)
        j.since, j.speech_before_s = since, before
        return j

    for j in (
        job("long request, after 40 s of its speech", 1.0, 40.0),  # ranks 1 + 4 = 5
        job("short request, second segment", 3.0, 3.0),  # 3.3
        job("new request, first segment", 4.0, 0.0, priority=0),  # 4
        job("old request, third segment", 0.5, 6.0),  # 1.1
    ):
        state.append(j)
    order = [texts(state.next_batch(5.0))[0] for _ in range(4)]
    assert order == [
        "old request, third segment",
        "short request, second segment",
        "new request, first segment",
        "long request, after 40 s of its speech",
    ]


def test_follow_up_segments_count_against_the_bound() -> None:
    state = new_state(max_queue=2)
    state.append(make_job("first of A", priority=0))
    state.append(make_job("second of A"), admit=False)
    with pytest.raises(OverloadedError):  # A's queued tail holds the places a new request would take
        state.append(make_job("first of B", priority=0))


def test_admission_by_expected_wait_uses_the_measured_pace() -> None:
    state = QueueState(name="e", max_queue=100, max_batch_size=1, max_wait_ms=0, max_queue_wait_s=1.0)
    sentence = "x" * 28  # ~2 s of expected speech (14 characters per second)
    state.append(make_job(sentence, 0.0, priority=0))
    assert state.expected_wait(0.0) is None  # no batch measured yet: only the count bound applies
    batch = state.next_batch(0.0)
    assert batch is not None
    state.finished(batch, 1.0)  # 2 s of speech in 1 s: pace 0.5
    assert state.work.pace == pytest.approx(0.5)
    state.append(make_job(sentence, 1.0, priority=0))  # nothing ahead
    state.append(make_job(sentence, 1.0, priority=0))  # 1 s ahead: admitted (not more than 1 s)
    assert state.expected_wait(1.0) == pytest.approx(2.0)
    with pytest.raises(OverloadedError) as refused:
        state.append(make_job("one more", 1.0, priority=0))
    assert "TTSGATE_MAX_QUEUE_WAIT_S=1" in refused.value.message
    assert refused.value.retry_after_s == 2.0
    running = state.next_batch(1.0)  # one starts: what is left of it shrinks as it runs
    assert running is not None
    assert state.expected_wait(1.5) == pytest.approx(1.5)
    assert state.expected_wait(2.2) == pytest.approx(1.0)  # overdue: counts as done, not negative
    state.append(make_job("admitted again", 2.2, priority=0))
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
