"""engines/ort_session.py: arena shrinkage after each run changes memory, not audio (needs the Joe voice)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ttsgate.engines import ort_session
from ttsgate.engines.base import EngineSpec, SynthesisInput
from ttsgate.engines.ort_session import Session
from ttsgate.engines.piper import PiperEngine, resolve_model
from ttsgate.exceptions import InvalidRequestError

pytestmark = pytest.mark.voices


def _ids() -> tuple[Path, dict[str, np.ndarray]]:
    model = resolve_model("builtin:en_US-joe-medium")
    config = json.loads(Path(f"{model}.json").read_text("utf-8"))
    ids = [config["phoneme_id_map"][p][0] for p in "^həlˈoʊ wˈɜːld$"]
    feeds = {
        "input": np.asarray([ids], np.int64),
        "input_lengths": np.asarray([len(ids)], np.int64),
        "scales": np.asarray([0.0, 1.0, 0.0], np.float32),  # no noise: deterministic
    }
    return model, feeds


def test_shrinking_session_gives_the_same_samples() -> None:
    model, feeds = _ids()
    kept, shrunk = Session(model, 1, shrink=False), Session(model, 1, shrink=True)
    assert kept._run_options is None
    assert shrunk._run_options is not None
    for _ in range(2):
        (a,) = kept.run(None, feeds)
        (b,) = shrunk.run(None, feeds)
        np.testing.assert_array_equal(a, b)
    assert [i.name for i in shrunk.get_inputs()] == ["input", "input_lengths", "scales"]


@pytest.mark.parametrize(("option", "shrinks"), [(None, False), ("keep", False), ("shrink", True)])
def test_engines_take_their_onnx_arena_option(option: str | None, shrinks: bool) -> None:
    opts: dict[str, object] = {"model": "builtin:en_US-joe-medium", "threads": 1}
    if option is not None:
        opts["onnx_arena"] = option
    engine = PiperEngine(EngineSpec("p", "piper", opts))
    engine.load()
    assert (engine._voice.session._run_options is not None) is shrinks
    (chunk,) = engine.synthesize([SynthesisInput(text="Hello world.", language="en")])
    assert chunk.samples.size > 0


def test_sessions_share_one_arena() -> None:
    model, feeds = _ids()
    first, second = Session(model, 1), Session(model, 1)
    assert ort_session._shared_arena is True
    np.testing.assert_array_equal(first.run(None, feeds)[0], second.run(None, feeds)[0])


def test_a_wrong_onnx_arena_option_names_the_engine() -> None:
    with pytest.raises(InvalidRequestError, match=r"'p'.*onnx_arena must be 'keep' or 'shrink'"):
        PiperEngine(EngineSpec("p", "piper", {"onnx_arena": "tiny"}))
    assert ort_session.shrink_option("shrink", "x") is True
