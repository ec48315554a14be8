"""Lexicon readings at the engines' doors: zh front end pins, espeak-ng/piper phoneme forms, IPA
conversion checked against espeak-ng itself, and the file reloaded without a restart."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ttsgate.engines.espeak import render_marks
from ttsgate.engines.zh_frontend import MandarinFrontend
from ttsgate.exceptions import InvalidRequestError
from ttsgate.lexicon_store import LexiconStore
from ttsgate.text import ipa, marks
from ttsgate.text.lexicon import LexiconError


@pytest.fixture(scope="module")
def frontend() -> MandarinFrontend:
    return MandarinFrontend.with_files()


def syllables(frontend: MandarinFrontend, text: str) -> list[str]:
    """Initial+final+tone per syllable of the first sentence (Baker symbols, breaks left out)."""
    (sent,) = frontend.sentences(text)
    body = [s for s in sent if s != "sil" and not s.startswith("#")]
    return [body[i] + body[i + 1] for i in range(0, len(body), 2)]


def test_zh_frontend_takes_the_given_pinyin(frontend: MandarinFrontend) -> None:
    assert syllables(frontend, "曾国藩的家书。")[:3] == ["ceng2", "guo2", "fan1"]  # the default reading
    pinned = marks.mark("曾国藩", "pinyin", "zeng1 guo2 fan1") + "的家书。"
    assert syllables(frontend, pinned)[:3] == ["zeng1", "guo2", "fan1"]
    assert syllables(frontend, "我去" + marks.mark("乐清", "pinyin", "le4 qing1"))[2:] == ["le4", "qing1"]


def test_a_lexicon_reading_wins_over_a_longer_builtin_polyphone(frontend: MandarinFrontend) -> None:
    assert syllables(frontend, "银行")[1] == "hang2"  # data/polyphones.txt: 银行 yin2 hang2
    assert syllables(frontend, "银" + marks.mark("行", "pinyin", "xing2")) == ["^in2", "xing2"]


def test_sandhi_still_applies_to_pinned_citation_tones(frontend: MandarinFrontend) -> None:
    assert syllables(frontend, marks.mark("你好", "pinyin", "ni3 hao3")) == ["ni2", "hao3"]


def test_espeak_renders_ipa_in_its_own_notation_for_english_voices_only() -> None:
    text = "We deploy " + marks.mark("Nginx", "ipa", "ˈɛndʒɪn ˈɛks") + " today."
    assert render_marks(text, "en-us") == "We deploy  [['EndZIn 'Eks]]  today."
    assert render_marks(text, "fr") == "We deploy Nginx today."
    assert render_marks("我去" + marks.mark("乐清", "pinyin", "yue4 qing1"), "yue") == "我去乐清"
    assert render_marks("say [[h@l'oU]]", "en-us") == "say [ [h@l'oU] ]"  # user text is not phoneme input


WORDS = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "the",
    "lazy",
    "dog",
    "thought",
    "measure",
    "vision",
    "church",
    "judge",
    "sing",
    "thin",
    "ship",
    "butter",
    "water",
    "city",
    "hour",
    "fire",
    "pure",
    "boy",
    "cow",
    "goat",
    "bird",
    "nurse",
    "father",
    "north",
    "force",
    "cat",
    "bed",
    "put",
    "boot",
    "cup",
    "about",
    "roses",
    "village",
    "sofa",
    "loch",
    "huge",
    "tube",
    "square",
    "near",
    "tour",
    "Siobhan",
    "Xiaomi",
    "Kubernetes",
    "query",
    "very",
    "area",
    "period",
    "serious",
    "sorry",
    "hurry",
    "mirror",
    "zero",
]


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_ipa_to_espeak_round_trips_through_espeak_ng() -> None:
    def speak_ipa(text: str) -> str:
        cmd = ["espeak-ng", "-q", "--ipa", "-v", "en-us", text]
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()

    for word in WORDS:
        written = speak_ipa(word)
        assert speak_ipa(f"[[{ipa.to_espeak(written)}]]") == written, word


def test_ipa_symbols_outside_the_english_set_are_named() -> None:
    with pytest.raises(ipa.IpaError, match=r"'ʁ' \(U\+0281\)"):
        ipa.check("ʁuʒ")
    with pytest.raises(ipa.IpaError, match="no phoneme"):
        ipa.check("ˈ ː")


# -- the file, reloaded ------------------------------------------------------------------------


def write(path: Path, text: str, bump_ns: int) -> None:
    path.write_text(text, "utf-8")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + bump_ns))  # a distinct mtime on coarse clocks


def test_the_file_is_reloaded_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "lex.tsv"
    write(path, "乐清\tyue4 qing1\n", 0)
    store = LexiconStore(path)
    first = store.lexicon()
    assert [m.entry.reading for m in first.find("乐清")] == ["yue4 qing1"]
    write(path, "乐清\tle4 qing1\nNginx\tengine x\n", 10_000_000)
    second = store.lexicon()
    assert [m.entry.reading for m in second.find("乐清 Nginx")] == ["le4 qing1", "engine x"]
    assert second.version != first.version


def test_a_broken_edit_keeps_the_last_good_lexicon_and_logs_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "lex.tsv"
    write(path, "乐清\tle4 qing1\n", 0)
    store = LexiconStore(path)
    good = store.lexicon().version
    write(path, "乐清\tle4 qing1\n曾国藩\tzeng1\n", 10_000_000)
    with caplog.at_level(logging.ERROR, logger="ttsgate.lexicon"):
        for _ in range(3):
            lexicon = store.lexicon()
            assert lexicon.version == good
            assert [m.entry.reading for m in lexicon.find("乐清")] == ["le4 qing1"]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "lex.tsv:2: '曾国藩': 1 pinyin syllables for 3 Han characters" in errors[0]
    assert "keeping the last good lexicon (1 entries)" in errors[0]
    path.unlink()  # deleted: still the last good one
    assert store.lexicon().version == good
    write(path, "乐清\tyue4 qing1\n", 20_000_000)  # fixed: picked up
    assert [m.entry.reading for m in store.lexicon().find("乐清")] == ["yue4 qing1"]


def test_a_bad_file_at_start_up_names_the_setting_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "lex.tsv"
    path.write_text("# names\nNginx\t/ɲ/\n", "utf-8")
    with pytest.raises(LexiconError, match=r"TTSGATE_LEXICON_FILE: .*lex.tsv:2: 'Nginx': 'ɲ'"):
        LexiconStore(path)
    with pytest.raises(LexiconError, match=r"TTSGATE_LEXICON_FILE: .*No such file"):
        LexiconStore(tmp_path / "missing.tsv")


def test_request_entries_go_over_the_files(tmp_path: Path) -> None:
    path = tmp_path / "lex.tsv"
    path.write_text("乐清\tyue4 qing1\n", "utf-8")
    store = LexiconStore(path)
    lexicon = store.lexicon({"乐清": "le4 qing1"})
    assert [(m.entry.reading, m.entry.source) for m in lexicon.find("乐清")] == [("le4 qing1", "request")]
    with pytest.raises(InvalidRequestError, match="lexicon: '乐清'"):
        store.lexicon({"乐清": "le4"})
