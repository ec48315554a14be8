"""Does speed mean what it says? Each engine's duration ratio over speeds 0.25…4.0 (issue #13).

For every engine and text, the audio at speed 1 is synthesized once and at every other speed
once; the table shows ``duration(1) / duration(s) / s`` (1.000 = exact; the goal is 0.9–1.1) as the
range over the texts, and the worst deviation per engine. Engine level (``Engine.synthesize``), the
same call the pipeline's workers make. ChatTTS is the tiny random-weight model of the tests with a
fixed token count (its real model is not on the dev box), so it shows the mechanism, not a voice.

    .venv/bin/python benchmarks/speed.py [sine espeak piper zh-baker chattts] > table.md
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
from pathlib import Path

from ttsgate.engines.base import Engine, EngineSpec, SynthesisInput
from ttsgate.engines.registry import create_engine

SPEEDS = (0.25, 0.5, 0.75, 1.5, 2.0, 3.0, 4.0)
EN = (
    "The quick brown fox jumps over the lazy dog, then rests.",
    "I would like to book a table for two at seven tonight. Thank you very much.",
    "Welcome back! Your order has shipped and should arrive on Tuesday.",
)
ZH = (
    "我们一起去公园散步吧，天气很好。",
    "去海边的火车每小时从北站发出一班。",
    "请把会议改到下周三下午两点半。",
)


def build(name: str, tmp: Path) -> tuple[Engine, tuple[str, ...], str, str | None]:
    if name == "chattts":
        if importlib.util.find_spec("ChatTTS") is None:
            raise SystemExit("chattts: ChatTTS not installed")
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from tests.support.chattts_tiny import build_tiny_chattts

        assets = build_tiny_chattts(tmp)
        opts = {"asset_dir": str(assets), "num_threads": 1, "max_new_tokens": 32, "min_new_tokens": 32}
        return create_engine(EngineSpec(name, "chattts", opts)), ZH, "zh", None
    if name == "zh-baker":
        return create_engine(EngineSpec(name, name)), ZH, "zh", None
    speaker = "en-us" if name == "espeak" else None
    return create_engine(EngineSpec(name, name)), EN, "en", speaker


def ratios(
    engine: Engine, texts: tuple[str, ...], language: str, speaker: str | None
) -> dict[float, list[float]]:
    def length(text: str, speed: float) -> float:
        (chunk,) = engine.synthesize([SynthesisInput(text, language, speaker, speed)])
        return chunk.duration_s

    out: dict[float, list[float]] = {s: [] for s in SPEEDS}
    for text in texts:
        normal = length(text, 1.0)
        for s in SPEEDS:
            out[s].append(normal / length(text, s) / s)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("engines", nargs="*", default=["sine", "espeak", "piper", "zh-baker", "chattts"])
    args = parser.parse_args()
    print("| engine | " + " | ".join(f"{s:g}" for s in SPEEDS) + " | worst |")
    print("|---|" + "---|" * (len(SPEEDS) + 1))
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.engines:
            engine, texts, language, speaker = build(name, Path(tmp))
            engine.load()
            table = ratios(engine, texts, language, speaker)
            engine.close()
            cells = [f"{min(v):.2f}–{max(v):.2f}" for v in table.values()]
            worst = max(abs(r - 1.0) for v in table.values() for r in v)
            print(f"| {name} | " + " | ".join(cells) + f" | {worst:.0%} |", flush=True)


if __name__ == "__main__":
    main()
