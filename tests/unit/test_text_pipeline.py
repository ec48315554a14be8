from __future__ import annotations

import io

import pytest

from ttsgate.exceptions import InvalidRequestError
from ttsgate.text import Segment, TextNormalizer, prepare
from ttsgate.text.cli import run_normalize


@pytest.fixture(scope="module")
def normalizer() -> TextNormalizer:
    return TextNormalizer()


def test_prepare_routes_runs_and_normalises(normalizer: TextNormalizer) -> None:
    segs = prepare("**注意**：我用iPhone 15拍了3张照片。", None, normalizer=normalizer)
    assert segs == [
        Segment(
            text="注意：我用iPhone 15拍了3张照片。",
            runs=(("zh", "注意：我用"), ("en", "iPhone"), ("zh", "十五拍了三张照片。")),
        )
    ]


def test_prepare_english_document(normalizer: TextNormalizer) -> None:
    segs = prepare("It costs $5. See https://example.com/x1 for more.", "en", normalizer=normalizer)
    spoken = " ".join(t for s in segs for _, t in s.runs)
    assert spoken == "It costs five dollars. See example dot com for more."


def test_normalizer_rejects_unknown_language(normalizer: TextNormalizer) -> None:
    with pytest.raises(InvalidRequestError):
        normalizer.normalize("1", "fr")
    with pytest.raises(InvalidRequestError):
        TextNormalizer(digit_one="1", use_wetext=False)


def test_digit_one_is_configurable() -> None:
    assert TextNormalizer(digit_one="一", use_wetext=False).normalize("电话110") == "电话一一零"


def test_cache_is_bounded(normalizer: TextNormalizer) -> None:
    small = TextNormalizer(cache_size=2, use_wetext=False)
    for i in range(5):
        small.normalize(f"第{i}个。")
    assert len(small._cache) == 2


def test_wetext_fallback_unescapes_quotes(normalizer: TextNormalizer) -> None:
    graphs = normalizer._graphs["zh"]
    assert graphs('他说"123"') == '他说"一百二十三"'


def test_cli_one_line_per_line() -> None:
    out = io.StringIO()
    assert run_normalize("zh", io.StringIO("2026年\n\n第2名\r\n"), out) == 0
    assert out.getvalue() == "二零二六年\n\n第二名\n"


def test_cli_bad_language() -> None:
    assert run_normalize("xx", io.StringIO("1\n"), io.StringIO()) == 2
