"""onnxruntime session options of the neural engines: RSS per engine and option, and paired speed.

    .venv/bin/python benchmarks/ort_sessions.py rss zh|piper '{"shrink": true}'   # one engine, one option
    .venv/bin/python benchmarks/ort_sessions.py speed zh|piper [PAIRS] [keep|shrink]

``rss`` (one process per call; the results table of benchmarks/edge.md, "Engine sessions"): RSS above
a base with onnxruntime and numpy imported, after loading, a warm-up, a short sentence, a long input
(a ~31 s Mandarin paragraph cut as the engine cuts it; one 70-word English sentence), the short one
again and ``malloc_trim(0)``, plus VmHWM and the output's sha256 (piper with noise scales 0, so that
options can be compared sample for sample). Options (JSON): ``shrink`` (TTSGATE_ONNX_ARENA=shrink),
``arena`` / ``pattern`` (false: ``enable_cpu_mem_arena`` / ``enable_mem_pattern`` off), ``opt``
(a ``GraphOptimizationLevel`` name), ``entries`` (session config entries).

``speed``: the same model in two sessions in one process, calls alternated (the box's load drifts
over both alike): "before" a plain ``InferenceSession`` run without run options, "after" our
``Session`` with arena kept or shrunk; RTF medians and the median of the per-pair ratio.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import psutil

from ttsgate.engines.ort_session import Session
from ttsgate.engines.piper import resolve_model
from ttsgate.engines.zh_baker_audio import split_ids, syllables
from ttsgate.engines.zh_baker_onnx import OnnxBaker, default_onnx_dir

ZH_SHORT = "今天天气很好，我们去公园散步吧。"
ZH_LONG = (
    "随着人工智能技术的快速发展，语音合成已经广泛应用于智能客服、有声读物、导航系统和辅助阅读等领域，"
    "它让机器能够用自然流畅的声音与人交流，并且在嘈杂的环境中依然保持清晰可懂的发音效果，"
    "研究人员还在不断改进模型的韵律和情感表达能力，使合成的语音听起来更加接近真人朗读的水平，"
    "同时也在努力降低计算成本和内存占用，以便在手机和嵌入式设备上流畅运行。"
)
EN_SHORT = "The train to Boston leaves soon."
EN_LONG = (
    "When the committee finally met on Thursday afternoon, after weeks of postponed meetings and endless "
    "email threads about budgets, schedules and the future of the old railway station that everyone in "
    "town seemed to have an opinion about, the chairwoman opened by reminding them that the decision "
    "could not be delayed any longer and that the contractors were waiting."
)
MAX_SYLLABLES = 78  # the engine's cut at speed 1 (2048 frames / 26 frames per syllable)


def zh_ids() -> tuple[list[list[int]], list[list[int]]]:
    from ttsgate.engines.zh_frontend import MandarinFrontend

    def fit(ids: list[int]) -> list[list[int]]:
        halves = split_ids(ids) if syllables(ids) > MAX_SYLLABLES else None
        return [ids] if halves is None else fit(halves[0]) + fit(halves[1])

    fe = MandarinFrontend()
    return fe.to_ids(ZH_SHORT), [p for s in fe.to_ids(ZH_LONG) for p in fit(s)]


def piper_voice(session: Any) -> tuple[Any, Any]:
    from piper import PiperConfig, PiperVoice, SynthesisConfig

    model = resolve_model("builtin:en_US-joe-medium")
    config = PiperConfig.from_dict(json.loads(Path(f"{model}.json").read_text("utf-8")))
    no_noise = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0, normalize_audio=False)
    return PiperVoice(session=session, config=config), no_noise


def rss(engine: str, cfg: dict[str, Any]) -> dict[str, Any]:
    proc = psutil.Process()
    mb: Callable[[], float] = lambda: proc.memory_info().rss / 2**20  # noqa: E731
    real = ort.InferenceSession

    def session(path: str, sess_options: Any = None, providers: Any = None, **kw: Any) -> Any:
        o = sess_options or ort.SessionOptions()
        if "arena" in cfg:
            o.enable_cpu_mem_arena = cfg["arena"]
        if "pattern" in cfg:
            o.enable_mem_pattern = cfg["pattern"]
        if "opt" in cfg:
            o.graph_optimization_level = getattr(ort.GraphOptimizationLevel, cfg["opt"])
        for k, v in cfg.get("entries", {}).items():
            o.add_session_config_entry(k, v)
        return real(path, o, providers=providers, **kw)

    ort.InferenceSession = session
    shrink = bool(cfg.get("shrink"))
    out: dict[str, Any] = {"engine": engine, "cfg": cfg}
    if engine == "zh":
        short_ids, long_ids = zh_ids()
        base = mb()
        baker = OnnxBaker(default_onnx_dir(), 2, shrink=shrink)
        out["loaded"] = mb() - base
        baker.speak(short_ids[0][:6] + short_ids[0][-1:], 1.0)
        rate = 24_000

        def say(seqs: list[list[int]]) -> Callable[[], list[Any]]:
            return lambda: [baker.speak(s, 1.0) for s in seqs]

        short, long = say(short_ids), say(long_ids)
    else:
        base = mb()
        voice, no_noise = piper_voice(Session(resolve_model("builtin:en_US-joe-medium"), 2, shrink=shrink))
        out["loaded"] = mb() - base
        rate = 22_050

        def say_en(text: str) -> Callable[[], list[Any]]:
            return lambda: [c.audio_float_array for c in voice.synthesize(text, syn_config=no_noise)]

        say_en("Hello.")()
        short, long = say_en(EN_SHORT), say_en(EN_LONG)
    out["warm"] = mb() - base
    for name, fn in (("short", short), ("long", long), ("short_again", short)):
        audio = np.concatenate([np.asarray(x, np.float32).ravel() for x in fn()])
        out[name] = mb() - base
        out[f"{name}_sha"] = hashlib.sha256(audio.tobytes()).hexdigest()[:12]
        out[f"{name}_audio_s"] = len(audio) / rate
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    out["trimmed"] = mb() - base
    hwm_kb = Path("/proc/self/status").read_text().split("VmHWM:")[1].split()[0]
    out["hwm"] = int(hwm_kb) / 1024 - base
    return {k: round(v, 1) if isinstance(v, float) else v for k, v in out.items()}


def speed(engine: str, pairs: int, mode: str) -> None:
    class Plain:
        """Before: a plain InferenceSession (as the engines made it), run without run options."""

        def __init__(self, model: Path) -> None:
            self._s = Session(model, 2, shrink=False)._session

        def run(self, names: Any, feeds: Any, run_options: Any = None) -> Any:
            return self._s.run(names, feeds)

        def __getattr__(self, name: str) -> Any:
            return getattr(self._s, name)

    def ours(model: Path) -> Session:
        return Session(model, 2, shrink=mode == "shrink")

    if engine == "zh":
        d = default_onnx_dir()
        a, b = OnnxBaker(d, 2), OnnxBaker(d, 2)
        a._acoustic, a._vocoder = Plain(d / "fastspeech2.onnx"), Plain(d / "mb_melgan.onnx")  # type: ignore[assignment]
        b._acoustic, b._vocoder = ours(d / "fastspeech2.onnx"), ours(d / "mb_melgan.onnx")
        short_ids, long_ids = zh_ids()
        cases: dict[str, Any] = {"short": short_ids, "long": long_ids}

        def call(m: Any, x: Any) -> float:
            return sum(len(m.speak(s, 1.0)) for s in x) / 24_000
    else:
        model = resolve_model("builtin:en_US-joe-medium")
        (a, no_noise), (b, _) = piper_voice(Plain(model)), piper_voice(ours(model))
        cases = {"short": EN_SHORT, "long": EN_LONG}

        def call(m: Any, x: Any) -> float:
            return sum(len(c.audio_float_array) for c in m.synthesize(x, syn_config=no_noise)) / 22_050

    for name, x in cases.items():
        call(a, x), call(b, x)
        ra: list[float] = []
        rb: list[float] = []
        for i in range(pairs):
            for m, r in ((a, ra), (b, rb)) if i % 2 == 0 else ((b, rb), (a, ra)):
                t = time.perf_counter()
                seconds = call(m, x)
                r.append((time.perf_counter() - t) / seconds)
        ratio = statistics.median(y / x for x, y in zip(ra, rb, strict=True))
        print(
            f"{engine} {name} [{mode}]: RTF before {statistics.median(ra):.4f} after "
            f"{statistics.median(rb):.4f}, median ratio after/before {ratio:.3f} ({pairs} pairs)",
            flush=True,
        )


def main() -> int:
    what, engine = sys.argv[1], sys.argv[2]
    if what == "rss":
        print(json.dumps(rss(engine, json.loads(sys.argv[3]) if len(sys.argv) > 3 else {})))
    else:
        speed(
            engine,
            int(sys.argv[3]) if len(sys.argv) > 3 else 10,
            sys.argv[4] if len(sys.argv) > 4 else "shrink",
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
