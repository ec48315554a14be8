"""Quality, memory and speed of each neural voice's variants (fp32 vs int8), and the gate's verdict.

    .venv/bin/pip install -r benchmarks/requirements-quality.txt   # faster-whisper, speechmos, librosa
    PIP=.venv/bin/pip ../shared/tools/whisper-base.sh var/whisper-base
    scripts/quantize_voices.sh                                     # the int8 files
    .venv/bin/python benchmarks/voice_quality.py   # table on stdout, src/ttsgate/data/variant_gate.json

Per (engine, variant), in a fresh subprocess (so RSS is that engine's alone): build the engine with
one worker and 2 intra-op threads, note RSS before ``load`` and after load + one warm-up sentence
(the delta: what the engine costs the server), speak the fixed sentences (Mandarin:
``texts_zh.txt``, 24; English: the first 24 of ``texts_en.txt``), time them (RTF = synthesis s /
audio s) and write 16 kHz WAVs. Then, in this process:

- recognition: Whisper base (faster-whisper, int8, beam 5, the language given). Mandarin: the
  toneless-pinyin syllable error rate (``asr_roundtrip.syllables``: homophones and Traditional
  characters do not count as errors; digits read as spoken); English: word error rate over
  lowercase words, numbers in the transcript read by ttsgate's English normalizer.
- DNSMOS (Microsoft's DNS Challenge P.835 model, ``speechmos`` 0.0.1.1's bundled
  ``sig_bak_ovr.onnx``, non-personalized): the OVRL score per clip (a clip shorter than the
  model's 9.01 s window is repeated to fill it, as speechmos does), averaged.

The gate (``ttsgate.engines.variants.gate``): int8 offered when its error rate is at most 1 point
above fp32's and its DNSMOS at most 0.1 below. Verdicts go to the markdown and to the JSON the
engines read for ``variant = "auto"`` (``TTSGATE_PROFILE=edge``).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _common import ROOT, table

MODELS = {  # model key -> (engine kind, options, language, sentences file, n)
    "zh-baker": ("zh-baker", {}, "zh", "texts_zh.txt", 24),
    "piper:en_US-joe-medium": ("piper", {"model": "builtin:en_US-joe-medium"}, "en", "texts_en.txt", 24),
}
WAVS = ROOT / "var" / "voice_quality"
GATE_JSON = ROOT / "src" / "ttsgate" / "data" / "variant_gate.json"
WHISPER = ROOT / "var" / "whisper-base"


def sentences(key: str) -> list[str]:
    _, _, _, fname, n = MODELS[key]
    lines = (ROOT / "benchmarks" / fname).read_text("utf-8").splitlines()
    return [s.strip() for s in lines if s.strip()][:n]


def one(key: str, variant: str, out: Path) -> None:
    """Subprocess: load one variant, measure RSS and RTF, write 16 kHz float32 .npy clips."""
    import psutil
    from scipy.signal import resample_poly

    from ttsgate.engines import SynthesisInput, create_engine
    from ttsgate.engines.base import EngineSpec

    kind, options, lang, _, _ = MODELS[key]
    texts = sentences(key)
    proc = psutil.Process()
    before = proc.memory_info().rss
    opts = {**options, "variant": variant, ("threads" if kind == "piper" else "num_threads"): 2}
    engine = create_engine(EngineSpec(f"{kind}-{variant}", kind, opts, workers=1))
    started = time.perf_counter()
    engine.load()
    engine.synthesize([SynthesisInput(texts[-1], lang)])  # warm-up
    load_s = time.perf_counter() - started
    rss_mb = (proc.memory_info().rss - before) / 2**20
    out.mkdir(parents=True, exist_ok=True)
    spent = audio = 0.0
    for i, text in enumerate(texts):
        t0 = time.perf_counter()
        (chunk,) = engine.synthesize([SynthesisInput(text, lang)])
        spent += time.perf_counter() - t0
        audio += chunk.duration_s
        pcm = resample_poly(chunk.samples, 16_000, chunk.sample_rate).astype(np.float32)
        np.save(out / f"{i:02d}.npy", np.clip(pcm, -1.0, 1.0))
    figures = {"rss_mb": round(rss_mb, 1), "rtf": round(spent / audio, 4), "load_s": round(load_s, 2)}
    figures["peak_rss_mb"] = round(proc.memory_info().rss / 2**20, 1)
    (out / "figures.json").write_text(json.dumps(figures), "utf-8")


def error_rate(key: str, refs: list[str], hyps: list[str]) -> float:
    """Pinyin syllable error rate (zh) or word error rate (en), in percent over all sentences."""
    from asr_roundtrip import edit_distance, syllables

    from ttsgate.text import TextNormalizer

    norm = TextNormalizer()
    errors = total = 0
    for ref, hyp in zip(refs, hyps, strict=True):
        if MODELS[key][2] == "zh":
            r, h = syllables(ref, norm), syllables(hyp, norm)
        else:

            def words(t: str) -> list[str]:
                spoken = norm.normalize(t, "en") if re.search(r"\d", t) else t
                return re.findall(r"[a-z']+", spoken.lower().replace("-", " "))

            r, h = words(ref), words(hyp)
        errors += edit_distance(r, h)
        total += len(r)
    return 100.0 * errors / total


def score(key: str, variant: str) -> dict[str, float]:
    from faster_whisper import WhisperModel
    from speechmos import dnsmos

    folder = WAVS / key.replace(":", "_") / variant
    figures: dict[str, float] = json.loads((folder / "figures.json").read_text("utf-8"))
    clips = [np.load(p) for p in sorted(folder.glob("*.npy"))]
    model = WhisperModel(str(WHISPER), device="cpu", compute_type="int8", cpu_threads=2)
    hyps = []
    for clip in clips:
        segs, _ = model.transcribe(clip, language=MODELS[key][2], beam_size=5)
        hyps.append("".join(s.text for s in segs).strip())
    (folder / "transcripts.txt").write_text("\n".join(hyps) + "\n", "utf-8")
    mos = [float(dnsmos.run(c, 16_000)["ovrl_mos"]) for c in clips]
    figures["error_pct"] = round(error_rate(key, sentences(key), hyps), 2)
    figures["dnsmos"] = round(float(np.mean(mos)), 3)
    return figures


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--one", nargs=2, metavar=("KEY", "VARIANT"), help=argparse.SUPPRESS)
    ap.add_argument("--skip-synthesis", action="store_true", help="score the clips already in var/")
    args = ap.parse_args()
    if args.one:
        one(args.one[0], args.one[1], WAVS / args.one[0].replace(":", "_") / args.one[1])
        return 0
    from ttsgate.engines.variants import Score, gate

    results: dict[str, dict[str, dict[str, float]]] = {}
    for key in MODELS:
        for variant in ("fp32", "int8"):
            if not args.skip_synthesis:  # one at a time: RSS and timing are not shared
                subprocess.run([sys.executable, __file__, "--one", key, variant], check=True)
            results.setdefault(key, {})[variant] = score(key, variant)
            print(key, variant, results[key][variant], file=sys.stderr)
    rows, verdicts = [], {}
    for key, by_variant in results.items():
        s = {v: Score(f["error_pct"], f["dnsmos"], f["rss_mb"], f["rtf"]) for v, f in by_variant.items()}
        verdict = gate(s["fp32"], s["int8"])
        verdicts[key] = {"passed": verdict.passed, "smaller": verdict.smaller, "reason": verdict.reason}
        metric = "CER (pinyin)" if MODELS[key][2] == "zh" else "WER"
        for v, f in by_variant.items():
            offered = "full model" if v == "fp32" else ("offered" if verdict.passed else "NOT offered")
            rows.append(
                [key, v, f"{metric} {f['error_pct']:.2f} %", f"{f['dnsmos']:.3f}", f"{f['rss_mb']:.0f}",
                 f"{f['rtf']:.3f}", f"{f['load_s']:.1f}", offered]
            )  # fmt: skip
    head = ["model", "variant", "recognition error", "DNSMOS OVRL", "RSS MB", "RTF", "load s", "gate"]
    print(table(head, rows))
    for key, v in verdicts.items():
        passed = "passed" if v["passed"] else "FAILED"
        print(f"- {key} int8: {passed} ({v['reason']}); smaller: {v['smaller']}")
    record = {"source": "benchmarks/voice_quality.py", "models": results, "verdicts": verdicts}
    GATE_JSON.write_text(json.dumps(record, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
