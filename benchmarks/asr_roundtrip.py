"""Speech-recognition round trip: does the Mandarin audio say what a native speaker would?

    .venv/bin/pip install -r benchmarks/requirements-quality.txt
    PIP=.venv/bin/pip ../shared/tools/whisper-base.sh var/whisper-base
    .venv/bin/python benchmarks/asr_roundtrip.py [--before REV]     # writes benchmarks/asr_roundtrip.md

For each sentence of ``benchmarks/asr/zh_sentences.tsv`` (raw text as users send it, and the way a
Mandarin speaker reads it, written out by hand), ttsgate (a real server, default settings, cache
off) speaks: the raw text, and the hand-normalized text (the floor: what a perfect text front end
would give this voice and this recognizer). Whisper base (faster-whisper, int8, ``language="zh"``)
transcribes each WAV; transcript and hand reading become toneless pinyin syllables (pypinyin;
digits in a transcript read by ttsgate's own normalizer, so both sides are compared as spoken;
a Latin letter as the Mandarin syllables of its English name, A → ei, X → ai ke si; a Latin
word as one token), and the pinyin error rate is the edit distance over the reference's syllables.
``--before REV`` also serves the raw text from a git revision (a worktree under ``var/``).
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import subprocess
import wave
from pathlib import Path

import httpx
import numpy as np
from _common import ROOT, table, ttsgate_server
from pypinyin import Style, lazy_pinyin

from ttsgate.text import TextNormalizer

DATA = ROOT / "benchmarks" / "asr" / "zh_sentences.tsv"
MODEL = ROOT / "var" / "whisper-base"
# English letter names as Mandarin speakers say them (the reading a transcript's letter stands for).
LETTERS = {
    "a": "ei", "b": "bi", "c": "xi", "d": "di", "e": "yi", "f": "ai fu", "g": "ji", "h": "ai qi",
    "i": "ai", "j": "jie", "k": "kai", "l": "ai le", "m": "ai mu", "n": "en", "o": "ou", "p": "pi",
    "q": "kiu", "r": "a er", "s": "ai si", "t": "ti", "u": "you", "v": "wei", "w": "da bu liu",
    "x": "ai ke si", "y": "wai", "z": "zei",
}  # fmt: skip
_TOKEN = re.compile(r"[A-Za-z]+|[\u3400-\u9fff]")


def syllables(text: str, norm: TextNormalizer) -> list[str]:
    """Toneless pinyin syllables of ``text`` (digits read first); letters by name, words whole."""
    spoken = norm.normalize(text, "zh") if re.search(r"\d", text) else text
    out: list[str] = []
    for tok in _TOKEN.findall(spoken):
        if tok.isascii():
            out += LETTERS[tok.lower()].split() if len(tok) == 1 else [tok.lower()]
        else:
            out += lazy_pinyin(tok, style=Style.NORMAL)
    return out


def edit_distance(a: list[str], b: list[str]) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


def speak(url: str, text: str) -> np.ndarray:
    r = httpx.post(f"{url}/v1/audio/speech", json={"input": text, "response_format": "wav"}, timeout=120)
    r.raise_for_status()
    with wave.open(io.BytesIO(r.content)) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768
        rate = w.getframerate()
    # Whisper wants 16 kHz mono float32.
    n = int(len(pcm) * 16000 / rate)
    return np.interp(np.linspace(0, len(pcm) - 1, n), np.arange(len(pcm)), pcm).astype(np.float32)


def serve_all(texts: list[str], **env: str) -> list[np.ndarray]:
    with ttsgate_server(cache="off", **env) as (url, _pid):
        return [speak(url, t) for t in texts]


def worktree(rev: str) -> Path:
    path = ROOT / "var" / f"rev-{rev[:10]}"
    if not path.exists():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), rev], check=True)
    return path


def plot(per_kind: dict[str, dict[str, list[int]]], names: list[str], out: Path) -> None:
    """Grouped bars: pinyin error rate (%) per kind, one bar per condition."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = sorted(per_kind)
    fig, ax = plt.subplots(figsize=(11, 4))
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        rates = [100 * per_kind[k][name][0] / per_kind[k][name][1] for k in kinds]
        ax.bar([x + i * width for x in range(len(kinds))], rates, width, label=name)
    ax.set_xticks([x + width * (len(names) - 1) / 2 for x in range(len(kinds))], kinds, rotation=30)
    ax.set_ylabel("pinyin error rate (%)")
    ax.set_title("Whisper base round trip of ttsgate's Mandarin, by kind of input")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", help="git revision to compare the raw text with")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "asr_roundtrip.md"))
    args = ap.parse_args()
    from faster_whisper import WhisperModel

    with DATA.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    norm = TextNormalizer()
    conditions = {
        "raw": serve_all([r["raw"] for r in rows]),
        "hand-normalized": serve_all([r["spoken"] for r in rows]),
    }
    if args.before:
        import os

        src = worktree(args.before) / "src"
        os.environ["PYTHONPATH"] = str(src)
        try:
            conditions[f"raw @ {args.before[:10]}"] = serve_all([r["raw"] for r in rows])
        finally:
            del os.environ["PYTHONPATH"]
    model = WhisperModel(str(MODEL), device="cpu", compute_type="int8")
    errors = {name: 0 for name in conditions}
    total = 0
    per_kind: dict[str, dict[str, list[int]]] = {}
    detail: list[list[str]] = []
    for i, row in enumerate(rows):
        ref = syllables(row["spoken"], norm)
        total += len(ref)
        cells = [row["kind"], row["raw"]]
        for name, audios in conditions.items():
            segs, _ = model.transcribe(audios[i], language="zh", beam_size=5)
            heard = "".join(s.text for s in segs).strip()
            err = edit_distance(ref, syllables(heard, norm))
            errors[name] += err
            kind = per_kind.setdefault(row["kind"], {})
            kind.setdefault(name, [0, 0])[0] += err
            kind[name][1] += len(ref)
            cells.append(f"{heard} ({err})")
        detail.append(cells)
    names = list(conditions)
    summary = [[n, f"{100 * errors[n] / total:.1f}%"] for n in names]
    kinds = [[k] + [f"{100 * v[n][0] / v[n][1]:.0f}%" for n in names] for k, v in sorted(per_kind.items())]
    md = (
        "# Speech-recognition round trip (Mandarin)\n\nGenerated by `benchmarks/asr_roundtrip.py"
        + (f" --before {args.before}" if args.before else "")
        + "`: ttsgate at its defaults (cache off) speaks each sentence of `benchmarks/asr/zh_sentences.tsv`;"
        " Whisper base (int8, beam 5, language zh) transcribes; pinyin syllable error rate against the"
        " hand-written reading (toneless; letters by their Mandarin-spoken names). The hand-normalized"
        " row is the floor this voice and this recognizer reach with a perfect text front end.\n\n"
        f"## Pinyin error rate ({len(rows)} sentences, {total} syllables)\n\n"
        + table(["input", "pinyin error rate"], summary)
        + "\n## By kind\n\n"
        + table(["kind", *names], kinds)
        + "\n## Transcripts (errors in syllables)\n\n"
        + table(["kind", "raw text", *names], detail)
    )
    png = Path(args.out).with_suffix(".png")
    plot(per_kind, names, png)
    md += f"\n![pinyin error rate by kind]({png.name})\n"
    Path(args.out).write_text(md, encoding="utf-8")
    print(md)


if __name__ == "__main__":
    main()
