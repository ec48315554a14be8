"""deadline.py: the EDF schedule estimate and the admission lateness rule, on plain numbers."""

from __future__ import annotations

import pytest

from ttsgate.scheduler.deadline import LATE_TOLERANCE_S, Playback, Unit, admission_lateness, finish_times
from ttsgate.scheduler.estimate import WorkEstimate


def unit(deadline: float, cost: float, owner: int = 0) -> Unit:
    return Unit(deadline, cost, owner)


def test_units_run_most_urgent_first_on_the_worker_that_frees_first() -> None:
    got = finish_times([unit(9, 1.0), unit(1, 1.0), unit(5, 2.0)], now=10.0, workers=2, running=[0.5])
    # worker A busy 0.5 s more, worker B free: due-1 → B (done 11), due-5 → A (10.5 + 2), due-9 → B
    assert [(u.deadline, f) for u, f in got] == [(1, 11.0), (5, 12.5), (9, 12.0)]


def test_one_worker_is_a_plain_sum() -> None:
    got = finish_times([unit(3, 1.0), unit(2, 1.0), unit(1, 1.0)], now=0.0, workers=1)
    assert [f for _, f in got] == [1.0, 2.0, 3.0]


def test_more_running_batches_than_workers_is_not_an_error() -> None:
    got = finish_times([unit(1, 1.0)], now=0.0, workers=1, running=[0.5, 0.7])
    assert got[0][1] == pytest.approx(1.5)


def test_lateness_counts_the_new_stream_and_what_it_adds_to_others() -> None:
    accepted = [unit(1.0, 0.5, 1), unit(2.0, 0.5, 1)]
    assert admission_lateness(accepted, [unit(5.0, 1.0, 2)], 0.0, 1) == 0.0
    # a new first segment due at 1.0 goes after the accepted one due at 1.0 and pushes its second
    assert admission_lateness(accepted, [unit(1.0, 1.0, 2)], 0.0, 1) == pytest.approx(0.5)
    # slower than its target even alone: only what the others add counts
    assert admission_lateness([], [unit(0.5, 2.0, 2)], 0.0, 1) == 0.0
    assert admission_lateness([unit(0.1, 0.5, 1)], [unit(0.5, 2.0, 2)], 0.0, 1) == pytest.approx(0.5)
    # within the estimate's tolerance
    assert admission_lateness(accepted, [unit(1.55, 0.5 + LATE_TOLERANCE_S / 2, 2)], 0.0, 1) == 0.0


def test_playback_deadlines_follow_the_listener() -> None:
    pb = Playback(start=100.0, ttfa_target_s=1.5)
    assert len(pb) == 0
    assert pb.deadline(0) == 101.5
    pb.add(2.0)
    pb.add(3.0)
    assert pb.deadline(1) == 102.0  # planned as if the first audio were out at once (cache, shared)
    pb.delivered(0, 2.5, 100.6)  # early and longer than expected
    assert pb.deadline(0) == pytest.approx(100.6)
    assert pb.deadline(1) == pytest.approx(103.1)
    k = pb.add(1.0)  # a live source grows; this voice speaks 1.25× longer than expected
    assert pb.deadline(k) == pytest.approx(100.6 + 2.5 + 3.0 * 1.25)


def test_the_cost_model_fits_overhead_and_pace() -> None:
    est = WorkEstimate(workers=1, samples=[(1.0, 0.3), (3.0, 0.5)])  # 0.2 s per call + 0.1 s/s
    assert est.pace == pytest.approx(0.1)
    assert est.overhead == pytest.approx(0.2)
    assert est.cost(2.0) == pytest.approx(0.4)
    one = WorkEstimate(workers=1, samples=[(2.0, 1.0)])  # one length: a plain ratio
    assert (one.pace, one.overhead) == (pytest.approx(0.5), 0.0)
    assert WorkEstimate().cost(5.0) == 0.0  # nothing measured: nothing estimated
    est.started(1, 10.0, 2.0)
    assert est.running(10.1) == [pytest.approx(0.3)]
    est.finished(1, 10.4)  # 2 s of speech in 0.4 s, as the model said: the fit holds
    assert est.cost(2.0) == pytest.approx(0.4, rel=0.05)


def test_fits_that_make_no_sense_fall_back_to_simpler_models() -> None:
    flat = WorkEstimate(samples=[(1.0, 0.21), (3.0, 0.2)])  # the same cost whatever the length
    assert (flat.pace, flat.overhead) == (0.0, pytest.approx(0.205, abs=0.01))
    steep = WorkEstimate(samples=[(1.0, 0.05), (3.0, 0.6)])  # would need a negative overhead
    assert steep.overhead == 0.0
    assert steep.cost(3.0) == pytest.approx(0.55, abs=0.05)
