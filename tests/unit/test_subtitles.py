"""SRT and WebVTT text from cues."""

from __future__ import annotations

import pytest

from ttsgate.audio.subtitles import Cue, to_srt, to_vtt, wrap_text

CUES = [
    Cue(0.0, 1.234, "Hello & welcome."),
    Cue(1.5, 3.0, "Is 1 < 2 and 3 > 2?"),
]


def test_srt_exact() -> None:
    assert to_srt(CUES) == (
        "1\n00:00:00,000 --> 00:00:01,234\nHello & welcome.\n\n"
        "2\n00:00:01,500 --> 00:00:03,000\nIs 1 < 2 and 3 > 2?\n\n"
    )


def test_vtt_exact_and_escaped() -> None:
    assert to_vtt(CUES) == (
        "WEBVTT\n\n"
        "1\n00:00:00.000 --> 00:00:01.234\nHello &amp; welcome.\n\n"
        "2\n00:00:01.500 --> 00:00:03.000\nIs 1 &lt; 2 and 3 &gt; 2?\n\n"
    )


def test_hours_and_rounding() -> None:
    cue = Cue(3723.0004, 36_000 + 59.9996, "late")
    assert "01:02:03,000 --> 10:01:00,000" in to_srt([cue])
    assert "01:02:03.000 --> 10:01:00.000" in to_vtt([cue])


def test_empty() -> None:
    assert to_srt([]) == ""
    assert to_vtt([]) == "WEBVTT\n\n"


def test_blank_cues_are_dropped_and_numbering_stays_dense() -> None:
    srt = to_srt([Cue(0, 1, "a"), Cue(1, 2, "  "), Cue(2, 3, "b")])
    assert srt == "1\n00:00:00,000 --> 00:00:01,000\na\n\n2\n00:00:02,000 --> 00:00:03,000\nb\n\n"


def test_latin_wraps_at_42() -> None:
    text = "The quick brown fox jumps over the lazy dog, and then it runs away into the forest."
    lines = wrap_text(text)
    assert lines == [
        "The quick brown fox jumps over the lazy",
        "dog, and then it runs away into the",
        "forest.",
    ]
    assert all(len(line) <= 42 for line in lines)
    assert to_srt([Cue(0, 5, text)]).count("\n") == 3 + 3


def test_cjk_wraps_at_20_and_keeps_punctuation_off_line_starts() -> None:
    text = "今天天气很好，我们一起去公园散步吧。然后我们去吃饭，好不好？"
    lines = wrap_text(text)
    assert "".join(lines) == text
    assert all(len(line) <= 20 for line in lines)
    assert lines[0] == "今天天气很好，我们一起去公园散步吧。然后"
    assert not any(line[0] in "，。？" for line in lines)


def test_wrap_keeps_long_words_and_explicit_breaks() -> None:
    assert wrap_text("x" * 50) == ["x" * 50]
    assert wrap_text("one\n  two   three ") == ["one", "two three"]


def test_bad_timing_is_refused() -> None:
    with pytest.raises(ValueError, match="timing"):
        Cue(2.0, 1.0, "backwards")
    with pytest.raises(ValueError, match="timing"):
        Cue(-0.1, 1.0, "negative")
