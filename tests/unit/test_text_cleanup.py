from __future__ import annotations

import re

from ttsgate.text import clean_for_speech


def test_markdown_is_flattened() -> None:
    text = "# 标题\n**重点**：*斜体* 和 ~~删除~~\n> 引用\n- 第一项\n1. 第二项\n---\n"
    # a heading and a list item are phrases of their own: a mark, so the voice pauses after them
    assert clean_for_speech(text) == "标题。\n重点：斜体 和 删除\n引用\n第一项。\n第二项。"


def test_links_keep_their_text_and_images_their_alt() -> None:
    assert clean_for_speech("请看[官网](https://x.com/a1)和![图](a.png)") == "请看官网和图"


def test_urls_become_host_names_with_digits_spelled() -> None:
    out = clean_for_speech("详情见 https://www.163.com/news/2026/0101.html 。")
    assert out == "详情见 一六三点com 。"
    assert clean_for_speech("See https://github.com/a/b?x=12 now.") == "See github dot com now."


def test_email_is_spoken_as_user_at_host() -> None:
    assert clean_for_speech("Mail me at john.doe@example.org please") == (
        "Mail me at john doe at example dot org please"
    )


def test_code_blocks_and_inline_code_are_not_spoken() -> None:
    text = "运行下面的代码：\n```python\nx = 12345\n```\n然后用`pip install a==1.2`或者`numpy`。"
    out = clean_for_speech(text)
    assert "12345" not in out
    assert "1.2" not in out
    assert "代码略。" in out
    assert "numpy" in out
    assert "用代码" in out


def test_english_placeholders() -> None:
    out = clean_for_speech("Run this:\n```\nrm -rf /\n```\nand `x = 1`.")
    assert "Code omitted." in out
    assert "and code." in out


def test_tables_become_sentences() -> None:
    out = clean_for_speech("| 名称 | 价格 |\n|---|:---:|\n| 苹果 | 5元 |")
    assert out.split() == ["名称，价格。", "苹果，5元。"]


def test_emoji_removed() -> None:
    assert clean_for_speech("太好了🎉👍🏻！") == "太好了！"
    assert not re.search("[\U0001f300-\U0001faff]", clean_for_speech("ok 🚀✨ done"))


def test_empty() -> None:
    assert clean_for_speech("") == ""
