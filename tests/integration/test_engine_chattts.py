"""The ChatTTS engine on a tiny randomly initialized model (same architecture and loading path as the
real weights): shapes, rates, batching through the scheduler, streaming, cancellation, voices, the
memory guard and ``/v1/audio/speech``. Random weights speak noise of random length, so the tests check
shape, rate, lengths and plumbing, never content. Pure tests of the window/crossfade logic need no torch.
"""

from __future__ import annotations

import asyncio
import importlib.util
import threading
import time
from collections.abc import Hashable, Iterator, Sequence
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.support.audio import decode
from ttsgate.audio.chunk import AudioChunk
from ttsgate.engines import chattts_stream as cs
from ttsgate.engines.base import Engine, EngineSpec, SynthesisInput
from ttsgate.exceptions import EngineError, InvalidRequestError, OverloadedError

HAVE_CHATTTS = all(importlib.util.find_spec(m) is not None for m in ("torch", "torchaudio", "ChatTTS"))
SKIP_REASON = "torch/torchaudio/chattts not installed (pip install 'ttsgate[chattts]')"
needs_chattts = [pytest.mark.chattts, pytest.mark.skipif(not HAVE_CHATTTS, reason=SKIP_REASON)]
SPT = 512  # output samples per GPT token (hop 256, two mel frames per token)
N = 32  # tokens per item in the fixed-length engine (min_new_tokens = max_new_tokens)
BASE = {"num_threads": 1, "stream_step_tokens": 4}


def full_len(tokens: int) -> int:
    return tokens * SPT - SPT // 2


# -- pure: window planning and crossfade (no torch) ----------------------------------------------


def fake_decoder(signals: Sequence[np.ndarray]) -> cs.DecodeFn:
    """A 'decoder' whose window decode is exactly the slice of a known signal."""

    def decode(windows: Sequence[tuple[int, int, int]]) -> list[np.ndarray]:
        return [signals[i][s * SPT : e * SPT - SPT // 2].astype(np.float32) for i, s, e in windows]

    return decode


def test_stream_windows_reassemble_the_offline_signal_exactly() -> None:
    rng = np.random.default_rng(0)
    lengths_final = [70, 41]
    signals = [rng.normal(0, 0.1, full_len(n)).astype(np.float32) for n in lengths_final]
    plan = cs.StreamPlan(samples_per_token=SPT, first_tokens=6, chunk_tokens=10, left_context=4, lookahead=3)
    rows = [cs.RowStream(plan) for _ in signals]
    outs: list[list[np.ndarray]] = [[], []]
    decode = fake_decoder(signals)
    for n in range(4, 71, 4):  # a stream yield every 4 tokens; row 1 stops growing at 41
        lengths = [min(n, 70), min(n, 41)]
        for i, piece in enumerate(cs.step(rows, lengths, False, decode)):
            if piece is not None:
                outs[i].append(piece)
    for i, piece in enumerate(cs.step(rows, lengths_final, True, decode)):
        if piece is not None:
            outs[i].append(piece)
    for sig, parts, row in zip(signals, outs, rows, strict=True):
        joined = np.concatenate(parts)
        np.testing.assert_allclose(joined, sig, atol=1e-6)  # crossfading identical audio is identity
        assert len(parts) >= 3
        assert row.done
        m = cs.join_metrics(joined, sig, row.joins)
        assert m["length_diff"] == 0
        assert m["boundary_error_db"] < -100
    assert rows[1].chunks < rows[0].chunks  # the short row was flushed as soon as it ended


def test_finished_rows_and_plan_checks() -> None:
    assert cs.finished_rows([8, 8, 5]) == [False, False, True]
    with pytest.raises(ValueError, match="crossfade"):
        cs.StreamPlan(samples_per_token=SPT, left_context=1, crossfade=2 * SPT)


def test_speed_maps_to_speed_tokens() -> None:
    from ttsgate.engines.chattts import speed_token

    assert [speed_token(s) for s in (0.25, 0.5, 1.0, 1.5, 2.0, 4.0)] == [0, 1, 5, 7, 9, 9]


def test_text_keeps_digits_and_symbols_maps_punctuation(tmp_path: Path) -> None:
    from ttsgate.engines.chattts import ChatTTSEngine, Sampling

    eng = ChatTTSEngine(EngineSpec("ct", "chattts", {"asset_dir": str(tmp_path)}))
    row = eng._row(SynthesisInput("价格：123元？[laugh]50%！", "zh"), Sampling(0.3, 0.7, 20, False))
    assert row.text == "价格，123元？laugh50%。"
    assert row.speaker == "chattts_01"
    assert row.speed_token == 5
    with pytest.raises(InvalidRequestError):
        eng.batch_key(SynthesisInput("x", "zh", params=(("temperature", "hot"),)))
    with pytest.raises(InvalidRequestError):
        eng._row(SynthesisInput("x", "zh", params=(("laugh", "7"),)), Sampling(0.3, 0.7, 20, False))
    assert eng.batch_key(SynthesisInput("a", "zh", "chattts_02", 2.0)) == eng.batch_key(
        SynthesisInput("b", "zh")
    )
    assert eng.batch_key(SynthesisInput("a", "zh", params=(("refine_text", "on"),))) != eng.batch_key(
        SynthesisInput("a", "zh")
    )


# -- the tiny model ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def tiny_assets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not HAVE_CHATTTS:
        pytest.skip(SKIP_REASON)
    from tests.support.chattts_tiny import build_tiny_chattts

    return build_tiny_chattts(tmp_path_factory.mktemp("chattts-tiny"))


def make_engine(assets: Path, **options: object) -> Engine:
    from ttsgate.engines.registry import create_engine

    eng = create_engine(EngineSpec("chattts-tiny", "chattts", {"asset_dir": str(assets), **BASE, **options}))
    eng.load()
    return eng


@pytest.fixture(scope="module")
def fixed(tiny_assets: Path) -> Iterator[Engine]:
    """Every item exactly N tokens long (EOS masked), so lengths are known."""
    eng = make_engine(tiny_assets, max_new_tokens=N, min_new_tokens=N)
    yield eng
    eng.close()


@pytest.fixture(scope="module")
def free(tiny_assets: Path) -> Iterator[Engine]:
    """Random lengths up to 24 tokens (the model may stop early, as real ChatTTS does)."""
    eng = make_engine(tiny_assets, max_new_tokens=24)
    yield eng
    eng.close()


@pytest.mark.usefixtures("tiny_assets")
class TestTinyModel:
    pytestmark = needs_chattts

    def test_protocol_and_properties(self, fixed: Engine) -> None:
        from ttsgate.engines.chattts import ChatTTSEngine

        assert isinstance(fixed, Engine)
        assert isinstance(fixed, ChatTTSEngine)
        assert fixed.sample_rate == 24_000
        assert fixed.max_batch_size == 4  # CPU default
        assert fixed.version.startswith("chattts-2:0.2")
        assert fixed.gpu_memory_bytes == 0
        assert 1_000_000 < fixed.model_bytes < 50_000_000

    def test_audio_shape_rate_and_length(self, fixed: Engine, free: Engine) -> None:
        items = [
            SynthesisInput("今天天气很好。", "zh"),
            SynthesisInput("价格是一百二十三元", "zh", "chattts_03", 1.5),
        ]
        for chunk, item in zip(fixed.synthesize(items), items, strict=True):
            assert chunk.sample_rate == 24_000
            assert chunk.samples.dtype == np.float32
            assert chunk.samples.ndim == 1
            assert len(chunk.samples) == round(full_len(N) / item.speed)  # speed: time-stretched
            assert np.isfinite(chunk.samples).all()
            assert np.abs(chunk.samples).max() <= 1.0
            assert np.abs(chunk.samples).max() > 0
        for chunk in free.synthesize(items):
            assert 0 < len(chunk.samples) <= full_len(24)
            assert chunk.sample_rate == 24_000

    def test_speed_means_what_it_says_in_one_batch(self, fixed: Engine) -> None:
        """Every row is generated at normal speed (N tokens) and stretched to 1/speed (issue #13:
        ChatTTS's [speed_N] prompt promises no length); rows of different speeds share a batch."""
        speeds = [1.0, 0.25, 0.5, 2.0, 4.0]
        chunks = fixed.synthesize([SynthesisInput("今天天气很好。", "zh", speed=s) for s in speeds])
        for chunk, speed in zip(chunks, speeds, strict=True):
            assert len(chunk.samples) == round(full_len(N) / speed)
            assert np.abs(chunk.samples).max() > 0

    def test_four_concurrent_requests_run_as_one_batch(self, fixed: Engine) -> None:
        from ttsgate.scheduler import Scheduler

        recorder = Recorder(fixed)
        items = [
            SynthesisInput("你好。", "zh", "chattts_01"),
            SynthesisInput("今天天气很好。", "zh", "chattts_02", 0.8),
            SynthesisInput("我们去公园吧。", "zh", "seed:42", 1.25),
            SynthesisInput("再见。", "zh"),
        ]

        async def main() -> list[AudioChunk]:
            sched = Scheduler({"ct": recorder}, max_batch_size=8, max_wait_ms=200)
            await sched.start()
            try:
                return await asyncio.gather(*(sched.synthesize("ct", it) for it in items))
            finally:
                await sched.close()

        chunks = asyncio.run(main())
        assert recorder.batches == [4]
        assert [len(c.samples) for c in chunks] == [round(full_len(N) / it.speed) for it in items]

    def test_refine_text_and_levels_run(self, free: Engine) -> None:
        params = (("refine_text", "on"), ("oral", "3"), ("laugh", "1"), ("break", "4"), ("top_k", "10"))
        (chunk,) = free.synthesize([SynthesisInput("你好。", "zh", params=params)])
        assert len(chunk.samples) > 0
        assert chunk.sample_rate == 24_000

    def test_stream_yields_in_order_and_adds_up(self, fixed: Engine) -> None:
        items = [SynthesisInput("今天天气很好。", "zh"), SynthesisInput("你好。", "zh", "chattts_02")]
        parts: list[list[np.ndarray]] = [[], []]
        yields = 0
        for step in fixed.synthesize_stream(items):
            assert len(step) == 2
            yields += 1
            for i, c in enumerate(step):
                if c is not None:
                    assert c.sample_rate == 24_000
                    assert c.samples.dtype == np.float32
                    parts[i].append(c.samples)
        assert yields >= 2
        assert all(len(p) >= 2 for p in parts)
        assert [sum(map(len, p)) for p in parts] == [full_len(N)] * 2

    def test_first_stream_chunk_comes_before_generation_ends(self, tiny_assets: Path) -> None:
        eng = make_engine(tiny_assets, max_new_tokens=96, min_new_tokens=96, stream_first_tokens=8)
        t0 = time.perf_counter()
        stream = eng.synthesize_stream([SynthesisInput("你好。", "zh")])
        first = next(stream)
        t_first = time.perf_counter() - t0
        rest = sum(len(c.samples) for step in stream for c in step if c is not None)
        t_all = time.perf_counter() - t0
        assert first[0] is not None
        assert len(first[0].samples) + rest == full_len(96)
        assert t_first < 0.5 * t_all
        eng.close()

    def test_cancel_stops_one_stream_not_the_other(self, tiny_assets: Path) -> None:
        eng = make_engine(tiny_assets, max_new_tokens=80, min_new_tokens=80)
        cancel = threading.Event()
        got = {"a": 0, "b": 0}

        def run(key: str, ev: threading.Event | None) -> None:
            for step in eng.synthesize_stream([SynthesisInput("你好。", "zh")], cancel=ev):
                got[key] += sum(len(c.samples) for c in step if c is not None)
                if ev is not None and got[key]:
                    ev.set()  # cancel after the first audio

        threads = [
            threading.Thread(target=run, args=("a", cancel)),
            threading.Thread(target=run, args=("b", None)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert 0 < got["a"] < full_len(80) // 2  # stopped early
        assert got["b"] == full_len(80)  # its own interrupt flag: untouched by a's cancel
        eng.close()

    def test_closing_a_stream_releases_the_engine(self, fixed: Engine) -> None:
        stream = fixed.synthesize_stream([SynthesisInput("你好。", "zh")])
        next(stream)
        stream.close()  # the client went away
        done = threading.Event()
        t = threading.Thread(target=lambda: (fixed.synthesize([SynthesisInput("好。", "zh")]), done.set()))
        t.start()
        t.join(timeout=30)
        assert done.is_set()

    def test_voices_are_stable_and_user_voices_register(self, tiny_assets: Path, fixed: Engine) -> None:
        from tests.support.chattts_tiny import random_speaker
        from ttsgate.engines.chattts import ChatTTSEngine, decode_speaker

        assert isinstance(fixed, ChatTTSEngine)
        mine = random_speaker(seed=5)
        other = make_engine(tiny_assets, speakers={"mine": mine})
        assert isinstance(other, ChatTTSEngine)
        for name in ("chattts_01", "chattts_05", "seed:7", "any-name"):
            a, b = fixed._speaker_tensor(name), other._speaker_tensor(name)
            assert a.shape == (64,)
            assert bool((a == b).all())
        assert not bool((fixed._speaker_tensor("chattts_01") == fixed._speaker_tensor("chattts_02")).all())
        assert np.array_equal(other._speaker_tensor("mine").numpy(), decode_speaker(mine).astype(np.float32))
        (chunk,) = other.synthesize([SynthesisInput("你好。", "zh", "mine")])
        assert len(chunk.samples) > 0
        other.close()
        with pytest.raises(EngineError, match="dims"):
            make_engine(tiny_assets, speakers={"bad": random_speaker(dim=32)})

    def test_builtin_voices_file_matches_its_seeds(self) -> None:
        """The stored 768-dim embeddings are what derive_speaker gives with chattts' own speaker stats
        (so the file can be audited), and they never change."""
        import pybase16384 as b14
        from ChatTTS.config import Config

        from ttsgate.engines.chattts_voices import decode_speaker, derive_speaker, read_builtin_speakers

        stat = np.frombuffer(b14.decode_from_string(Config().spk_stat), dtype=np.float16)
        std, mean = np.split(stat.copy(), 2)
        speakers = read_builtin_speakers()
        assert len(speakers) >= 8
        for entry in speakers.values():
            assert entry["dim"] == 768
            assert np.array_equal(decode_speaker(entry["emb"]), derive_speaker(entry["seed"], std, mean))

    def test_memory_guard_refuses_a_batch(self, tiny_assets: Path, fixed: Engine) -> None:
        from ttsgate.engines.chattts import ChatTTSEngine

        assert isinstance(fixed, ChatTTSEngine)
        limit_mb = (fixed.model_bytes + fixed.estimate_batch_bytes(1, N)) / 2**20 + 0.01
        eng = make_engine(tiny_assets, max_new_tokens=N, min_new_tokens=N, memory_limit_mb=limit_mb)
        assert len(eng.synthesize([SynthesisInput("你好。", "zh")])) == 1
        with pytest.raises(OverloadedError) as err:
            eng.synthesize([SynthesisInput("你好。", "zh")] * 4)
        assert err.value.code == "memory"
        eng.close()


class Recorder:
    """Delegates to an engine and records the size of every batch it gets."""

    def __init__(self, inner: Engine) -> None:
        self.inner = inner
        self.batches: list[int] = []
        self.name, self.version, self.sample_rate = inner.name, inner.version, inner.sample_rate
        self.max_batch_size = inner.max_batch_size

    def load(self) -> None:
        self.inner.load()

    def batch_key(self, item: SynthesisInput) -> Hashable:
        return self.inner.batch_key(item)

    def max_speech_s(self, speed: float) -> float | None:
        return self.inner.max_speech_s(speed)

    def synthesize(self, batch: Sequence[SynthesisInput]) -> list[AudioChunk]:
        self.batches.append(len(batch))
        return self.inner.synthesize(batch)

    def close(self) -> None:
        pass


@pytest.mark.chattts
@pytest.mark.skipif(not HAVE_CHATTTS, reason=SKIP_REASON)
def test_speech_endpoint_speaks_with_chattts(tiny_assets: Path) -> None:
    from tests.support.servers import serve_app
    from ttsgate.config import Settings
    from ttsgate.server import create_app
    from ttsgate.voices import VoiceTable

    table = VoiceTable.from_mapping(
        {
            "engines": {
                "chattts": {"kind": "chattts", "asset_dir": str(tiny_assets), "max_new_tokens": 24, **BASE},
                "sine-en": {"kind": "sine", "char_s": 0.05, "sample_rate": 22050},
            },
            "voices": {
                "zh_chattts": {
                    "engine": "chattts",
                    "language": "zh",
                    "speaker": "chattts_02",
                    "name": "ChatTTS",
                },
                "en_test": {"engine": "sine-en", "language": "en", "name": "Sine English"},
            },
            "languages": {"zh": "zh_chattts", "en": "en_test"},
            "aliases": {"zh_female_001": "zh_chattts"},
        }
    )
    app = create_app(Settings(cache="off", max_wait_ms=20.0), table=table)
    with serve_app(app) as url:
        for fmt in ("wav", "pcm"):
            r = httpx.post(
                f"{url}/v1/audio/speech",
                json={
                    "input": "你好，今天是2024年1月5日。",
                    "voice": "zh_female_001",
                    "response_format": fmt,
                },
                timeout=60,
            )
            assert r.status_code == 200, r.text
            audio = decode(r.content, fmt)
            assert audio.sample_rate == 24_000
            assert audio.duration_s > 0.05
            assert audio.rms > 0
