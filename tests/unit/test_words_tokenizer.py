"""words.WordsTokenizer: jieba's dictionary held compactly, jieba's cuts (HMM=False) unchanged."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import jieba
import pytest

from ttsgate.text.words import WordsTokenizer

TEXTS = [
    "去海边的火车每小时从北站发出一班。",
    "今天天气很好，我们去公园散步吧。",
    "我一会儿就到，你在门口等我一下好不好",
    "验证码是384756请在5分钟内输入v2.3.1版本",
    "中华人民共和国成立于1949年10月1日",
    "他说：“这个𠀀字和\ud800都不在词典里”ABC abc",
    "",
]
Pair = tuple[WordsTokenizer, jieba.Tokenizer]


@pytest.fixture(scope="module")
def tokenizers() -> Pair:
    jieba.setLogLevel(logging.WARNING)
    ref = jieba.Tokenizer()
    ref.initialize()
    return WordsTokenizer(), ref


@pytest.mark.parametrize("text", TEXTS)
def test_cuts_and_word_graph_are_jiebas(tokenizers: Pair, text: str) -> None:
    ours, ref = tokenizers
    assert list(ours.cut(text, HMM=False)) == list(ref.cut(text, HMM=False))
    assert ours.get_DAG(text) == ref.get_DAG(text)
    assert ours.total == ref.total


def test_only_the_dictionary_cut_is_offered(tokenizers: Pair) -> None:
    ours, _ = tokenizers
    with pytest.raises(ValueError, match="HMM=False"):
        list(ours.cut("你好"))
    with pytest.raises(ValueError, match="HMM=False"):
        list(ours.cut("你好", cut_all=True, HMM=False))


def test_jieba_imports_without_escape_sequence_warnings(tmp_path: Path) -> None:
    """jieba's source has invalid escape sequences: compiled without cached byte-code (an empty
    PYTHONPYCACHEPREFIX here) it warns, a SyntaxWarning on 3.12+ that `-W error` makes an error."""
    code = "import ttsgate.text.words, ttsgate.engines.zh_context as z; assert z._tags()"
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "invalid escape sequence" not in proc.stderr
