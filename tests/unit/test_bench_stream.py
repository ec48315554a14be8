"""``ttsgate bench stream``'s pure parts: the simulated player, the WAV counter, distinct texts, a
level's figures and the capacity search (driven by a fake level, no servers)."""

from __future__ import annotations

import io
import itertools
import math
import wave

import pytest

from ttsgate.bench.capacity import CapacitySearch, search, summarize_level
from ttsgate.bench.peers import WavCounter
from ttsgate.bench.stream import (
    PARAGRAPH_EN,
    PARAGRAPH_ZH,
    Paragraphs,
    StreamError,
    StreamRecord,
    distinct_text,
    simulate_player,
)
from ttsgate.text import split_segments

# -- simulate_player -------------------------------------------------------------------------


def test_player_no_stall_when_audio_arrives_ahead() -> None:
    # 1 s pieces arriving every 0.5 s: the buffer only grows
    assert simulate_player([(0.2, 1.0), (0.7, 1.0), (1.2, 1.0)]) == (0.0, 0.0)


def test_player_piece_arriving_exactly_on_time_is_no_stall() -> None:
    assert simulate_player([(1.0, 0.5), (1.5, 0.5), (2.0, 0.5)]) == (0.0, 0.0)


def test_player_one_stall() -> None:
    # plays 0.3 s from t=1.0 (until 1.3); the next piece comes at 1.8: 0.5 s of silence
    worst, total = simulate_player([(1.0, 0.3), (1.8, 2.0)])
    assert worst == pytest.approx(0.5)
    assert total == pytest.approx(0.5)


def test_player_stalls_accumulate_and_shift_later_deadlines() -> None:
    # start 0; piece 1 plays to 1.0; piece 2 at 1.4 (stall 0.4) plays to 2.4; piece 3 at 2.5
    # (stall 0.1; without the shift it would have been due at 2.0 and stalled 0.5) plays to 3.5;
    # piece 4 at 3.0 is early: no stall; piece 5 at 5.0 after playing until 4.5: stall 0.5
    worst, total = simulate_player([(0.0, 1.0), (1.4, 1.0), (2.5, 1.0), (3.0, 1.0), (5.0, 0.2)])
    assert worst == pytest.approx(0.5)
    assert total == pytest.approx(0.4 + 0.1 + 0.5)


def test_player_burst_then_nothing_is_one_stall_at_most() -> None:
    # a segment's half-second pieces arrive in one burst, then the next segment late
    burst = [(0.5 + i * 1e-4, 0.5) for i in range(4)]  # 2 s of audio from t=0.5: plays to 2.5
    assert simulate_player([*burst, (2.4, 1.0)]) == (0.0, 0.0)
    worst, total = simulate_player([*burst, (3.0, 1.0)])
    assert worst == pytest.approx(0.5, abs=1e-3)
    assert total == pytest.approx(worst)


def test_player_ignores_pieces_without_audio_and_empty_streams() -> None:
    assert simulate_player([]) == (0.0, 0.0)
    # the header-only piece at 0.1 does not start playback: audio starts at 0.9
    assert simulate_player([(0.1, 0.0), (0.9, 1.0), (1.5, 1.0)]) == (0.0, 0.0)


# -- WavCounter ------------------------------------------------------------------------------


def _wav(rate: int, seconds: float) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(2 * int(rate * seconds)))
    return buf.getvalue()


@pytest.mark.parametrize("size", [1, 7, 44, 45, 1000, 100_000])
def test_wav_counter_counts_audio_in_any_chunking(size: int) -> None:
    data = _wav(22050, 1.5)
    counter = WavCounter()
    pieces = [counter.feed(data[i : i + size]) for i in range(0, len(data), size)]
    assert counter.rate == 22050
    assert sum(pieces) == pytest.approx(1.5)
    assert pieces[0] == 0.0 or size > 44  # the header alone is no audio


def test_wav_counter_rejects_what_is_not_wav() -> None:
    with pytest.raises(StreamError):
        WavCounter().feed(b'{"error": "busy"}')


# -- texts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "paragraph", [PARAGRAPH_EN, PARAGRAPH_ZH, "Well, it rained all day, then it stopped."]
)
def test_distinct_texts_share_no_segment(paragraph: str) -> None:
    """As ttsgate cuts them (its default first-segment and length limits), two streams' texts have
    no segment in common: single-flight cannot merge their syntheses."""
    seen: dict[str, int] = {}
    for n in (0, 1, 2, 9, 63, 4095):
        for seg in split_segments(distinct_text(paragraph, n)):
            assert seen.setdefault(seg, n) == n, f"{seg!r} in streams {seen[seg]} and {n}"


def test_paragraphs_same_start_share_the_first_segment_only() -> None:
    p = Paragraphs([PARAGRAPH_EN], same_start="Sure, here is the short version.")
    a, b = split_segments(p.text(0)), split_segments(p.text(0))
    assert a[:2] == b[:2] == ["Sure,", "here is the short version."]
    assert not set(a[2:]) & set(b[2:])
    zh = Paragraphs([PARAGRAPH_ZH], same_start="好的，我来简单说一下。")
    assert split_segments(zh.text(0))[0] == split_segments(zh.text(0))[0] == "好的，我来简单说一下。"


# -- a level's figures -----------------------------------------------------------------------


def _rec(
    outcome: str, *, ttfa: float = 0.5, stall: float = 0.0, audio: float = 10.0, **kw: object
) -> StreamRecord:
    r = StreamRecord("t", "c=3", 0, 0, 100, start_s=0.0, end_s=4.0, outcome=outcome)
    if outcome in ("ok", "truncated"):
        r.ttfa_s, r.worst_stall_s, r.audio_s = ttfa, stall, audio
    for k, v in kw.items():
        setattr(r, k, v)
    return r


def test_level_passes_only_with_all_accepted_fast_and_smooth() -> None:
    good = [_rec("ok"), _rec("ok", ttfa=1.0), _rec("ok", stall=0.05)]
    s = summarize_level(good, mode="search", n=3, stall_limit_s=0.1, ttfa_target_s=1.5)
    assert (s.started, s.accepted, s.refused, s.stalled, s.passed) == (3, 3, 0, 0, True)
    assert s.speech_per_s == pytest.approx(30 / 4)
    assert s.retry_after_all is None
    stalled = [*good[:2], _rec("ok", stall=0.2)]
    assert not summarize_level(stalled, mode="search", n=3, stall_limit_s=0.1, ttfa_target_s=1.5).passed
    slow = [_rec("ok", ttfa=2.0)] * 3
    assert not summarize_level(slow, mode="search", n=3, stall_limit_s=0.1, ttfa_target_s=1.5).passed
    cut = [*good[:2], _rec("truncated", error="short")]
    s = summarize_level(cut, mode="search", n=3, stall_limit_s=0.1, ttfa_target_s=1.5)
    assert (s.accepted, s.errors, s.passed) == (3, {"short": 1}, False)


def test_level_refusals() -> None:
    recs = [
        _rec("ok"),
        _rec("refused", status=503, retry_after="2", refusal_s=0.01),
        _rec("refused", status=503, retry_after=None, refusal_s=0.03),
    ]
    s = summarize_level(recs, mode="overload", n=3, stall_limit_s=0.1, ttfa_target_s=1.5)
    assert (s.accepted, s.refused, s.retry_after_all, s.passed) == (1, 2, False, False)
    assert s.refusal["p50"] == pytest.approx(0.02)
    assert s.refusal["max"] == pytest.approx(0.03)
    assert s.speech_per_s == pytest.approx(10 / 4)  # refused streams bring no speech
    assert math.isnan(summarize_level(recs[1:2], mode="x", n=1, stall_limit_s=1, ttfa_target_s=1).ttfa["p95"])


# -- the capacity search ---------------------------------------------------------------------


def test_search_doubles_then_bisects() -> None:
    s = search(lambda n: n <= 13)
    assert s.capacity == 13
    assert s.tried == [
        (1, True),
        (2, True),
        (4, True),
        (8, True),
        (16, False),
        (12, True),
        (14, False),
        (13, True),
    ]


@pytest.mark.parametrize("capacity", [0, 1, 2, 3, 5, 31, 32, 33, 100, 255, 256])
def test_search_finds_any_capacity(capacity: int) -> None:
    s = search(lambda n: n <= capacity, max_n=256)
    assert s.capacity == capacity
    assert len(s.tried) <= 2 * 9 + 1
    assert len({n for n, _ in s.tried}) == len(s.tried)  # no level run twice without --confirm


def test_search_is_capped() -> None:
    s = search(lambda n: True, max_n=100)
    assert s.capacity == 100
    assert [n for n, _ in s.tried] == [1, 2, 4, 8, 16, 32, 64, 100]
    assert search(lambda n: True, max_n=1).tried == [(1, True)]


def test_search_nothing_passes() -> None:
    s = search(lambda n: False)
    assert (s.capacity, s.tried) == (0, [(1, False)])


def test_confirm_runs_a_passing_level_again_and_a_failed_confirmation_fails_it() -> None:
    runs: dict[int, itertools.count[int]] = {}

    def flaky(n: int) -> bool:  # up to 4 passes; 4 passes its first run, fails its second
        k = next(runs.setdefault(n, itertools.count()))
        return n < 4 or (n == 4 and k == 0)

    s = search(flaky, confirm=1)
    assert s.capacity == 3
    assert s.tried == [
        (1, True),
        (1, True),
        (2, True),
        (2, True),
        (4, True),
        (4, False),
        (3, True),
        (3, True),
    ]


def test_search_rejects_bad_bounds() -> None:
    with pytest.raises(ValueError, match="max_n"):
        CapacitySearch(max_n=0)
