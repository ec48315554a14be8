"""API key files, the rate limiter's sliding window and the LLM policy, without a server."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ttsgate.config import Settings
from ttsgate.exceptions import InvalidRequestError, RateLimitError
from ttsgate.llm.policy import apply_policy
from ttsgate.server import ratelimit
from ttsgate.server.keys import KeyFileError, KeyStore, parse_keys_file

KEY_A, KEY_B = "sk-alpha-0123456789abcdef", "sk-bravo-0123456789abcdef"


def test_keys_file_names_limits_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    path.write_text(f"# team keys\n{KEY_A} name=alpha rpm=10 cpm=500\n\n{KEY_B}   # default limits\n")
    store = KeyStore.from_settings("", path, rpm=60, cpm=0)
    alpha, bravo = store.lookup(KEY_A), store.lookup(KEY_B)
    assert alpha is not None
    assert (alpha.name, alpha.rpm, alpha.cpm) == ("alpha", 10, 500)
    assert bravo is not None
    assert (bravo.rpm, bravo.cpm) == (60, 0)
    assert bravo.name.startswith("key-")
    assert store.lookup(KEY_A + "x") is None
    assert store.lookup("") is None
    assert store.enabled


def test_no_keys_means_authentication_off() -> None:
    assert not KeyStore.from_settings("", None, 0, 0).enabled
    assert KeyStore.from_settings(f" {KEY_A} , {KEY_B} ", None, 0, 0).lookup(KEY_B) is not None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("short", "at least 16"),
        (f"{KEY_A} rpm=ten", "whole numbers"),
        (f"{KEY_A} rpm=-1", ">= 0"),
        (f"{KEY_A} colour=blue", "expected name="),
        (f"{KEY_A} name=", "expected name="),
    ],
)
def test_malformed_key_lines_name_the_line(line: str, message: str) -> None:
    with pytest.raises(KeyFileError, match=rf"keys:2: .*{message}"):
        parse_keys_file(f"# header\n{line}\n", 0, 0, source="keys")


def test_duplicate_names_are_refused() -> None:
    with pytest.raises(KeyFileError, match="unique"):
        KeyStore.from_settings("", None, 0, 0).__class__(
            parse_keys_file(f"{KEY_A} name=x\n{KEY_B} name=x\n", 0, 0)
        )


async def test_sliding_window_refuses_over_the_limit_and_counts_nothing_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [1_000_040.0]  # 20 s into a window (windows start at multiples of 60 s)
    monkeypatch.setattr(time, "time", lambda: now[0])
    limiter = ratelimit.RateLimiter()
    for _ in range(3):
        await limiter.charge("k", "requests", 1, 3)
    with pytest.raises(RateLimitError) as refused:
        await limiter.charge("k", "requests", 1, 3)
    assert 1 <= refused.value.retry_after_s <= 40
    await limiter.charge("other", "requests", 1, 3)  # per key
    now[0] += 45  # next window, 5 s in: the previous window still weighs 55/60 × 3 = 2.75
    with pytest.raises(RateLimitError):
        await limiter.charge("k", "requests", 1, 3)
    now[0] += 20  # 25 s in: 35/60 × 3 = 1.75, one more fits
    await limiter.charge("k", "requests", 1, 3)
    await limiter.charge("k", "characters", 10_000, 0)  # 0: unlimited
    await limiter.charge("k", "characters", 50, 10, refuse=False)  # work already done: counted


def settings(**kw: object) -> Settings:
    return Settings(llm_model="qwen2.5:0.5b", **kw)  # type: ignore[arg-type]


def test_llm_policy_defaults_to_the_configured_model_and_a_bounded_reply() -> None:
    req = apply_policy(settings(), None, None, None)
    assert (req.model, req.options, req.keep_alive) == ("qwen2.5:0.5b", {"num_predict": 1024}, None)
    assert apply_policy(settings(), None, {"max_tokens": 200}, None).options == {"num_predict": 200}


@pytest.mark.parametrize(
    ("model", "options", "keep_alive", "param"),
    [
        ("llama3:70b", None, None, "model"),
        (None, {"max_tokens": 1_000_000}, None, "options.max_tokens"),
        (None, {"num_predict": 0}, None, "options.num_predict"),
        (None, {"max_tokens": True}, None, "options.max_tokens"),
        (None, {"n": 128}, None, "options.n"),
        (None, {"temperature": 0.2}, None, "options.temperature"),
        (None, None, "24h", "keep_alive"),
    ],
)
def test_llm_policy_refuses_what_the_operator_did_not_allow(
    model: str | None, options: dict[str, object] | None, keep_alive: str | None, param: str
) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        apply_policy(settings(), model, options, keep_alive)
    assert refused.value.param == param


def test_llm_policy_opens_what_the_operator_allows() -> None:
    s = settings(
        llm_allowed_models="llama3:8b", llm_allowed_options="temperature,keep_alive", llm_max_tokens=64
    )
    req = apply_policy(s, "llama3:8b", {"temperature": 0.2}, "5m")
    assert req.model == "llama3:8b"
    assert req.options == {"temperature": 0.2, "num_predict": 64}
    assert req.keep_alive == "5m"
    anything = settings(llm_allowed_models="*", llm_allowed_options="*")
    assert apply_policy(anything, "any:model", {"top_k": 5}, None).options["top_k"] == 5
