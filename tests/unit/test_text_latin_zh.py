"""Latin letters, units and versions inside Chinese: what each voice is given (docs/reading.md).

The rule: every Latin letter that reaches a voice is spoken by it. Letters and initialisms stay in
the zh run (the Mandarin voice spells them), unit symbols after a number become Chinese words,
numbers next to Latin names are read in Chinese, and real words go to the English voice.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ttsgate.engines.zh_frontend import MandarinFrontend
from ttsgate.engines.zh_letters import spelled
from ttsgate.text import TextNormalizer, prepare
from ttsgate.text.latin_zh import is_spelled, rules_latin_zh

Runs = list[tuple[str, str]]


@pytest.fixture(scope="module")
def normalizer() -> TextNormalizer:
    return TextNormalizer()


@pytest.fixture(scope="module")
def fe() -> MandarinFrontend:
    return MandarinFrontend.with_files()


def runs(normalizer: TextNormalizer, text: str, hint: str | None = "zh") -> Runs:
    return [run for seg in prepare(text, hint, normalizer=normalizer) for run in seg.runs]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # single letters next to Han text or digits: kept for the Mandarin voice's letter table
        ("A股大涨", [("zh", "A股大涨")]),
        ("医生让我去拍X光", [("zh", "医生让我去拍X光")]),
        ("a股今天跌了", [("zh", "a股今天跌了")]),  # lowercase
        ("我的答案是B", [("zh", "我的答案是B")]),  # at the end
        ("4G信号不好", [("zh", "四G信号不好")]),
        ("买了一件T恤和一个U盘", [("zh", "买了一件T恤和一个U盘")]),
        ("GPT-4o发布了", [("zh", "GPT四o发布了")]),  # the o is a letter, GPT an initialism
        # initialisms: spelled by the Mandarin voice, in the same run
        ("NBA总决赛", [("zh", "NBA总决赛")]),
        ("公司的CEO说", [("zh", "公司的CEO说")]),
        ("帮我做个PPT", [("zh", "帮我做个PPT")]),
        ("CPU占用很高", [("zh", "CPU占用很高")]),
        ("插上USB-C接口", [("zh", "插上USB-C接口")]),
        ("mRNA疫苗", [("zh", "mRNA疫苗")]),
        ("打开ppt文件", [("zh", "打开ppt文件")]),  # lowercase, no vowel
        # letters between digits
        ("3D打印", [("zh", "三D打印")]),
        ("4K电视", [("zh", "四K电视")]),
        ("5G网络", [("zh", "五G网络")]),
        ("H5页面", [("zh", "H五页面")]),
        ("M2芯片", [("zh", "M二芯片")]),
        ("H-1B签证", [("zh", "H一B签证")]),
        # units after a number: Chinese words (data sizes as said aloud)
        ("下载了一个300MB的安装包", [("zh", "下载了一个三百兆的安装包")]),
        ("512MB内存", [("zh", "五百一十二兆内存")]),  # at the start of the sentence
        ("256MB内存", [("zh", "两百五十六兆内存")]),
        ("手机有16GB内存", [("zh", "手机有十六G内存")]),
        ("安装包有300 MB", [("zh", "安装包有三百兆")]),  # a space before the unit
        ("时速不能超过100km/h", [("zh", "时速不能超过每小时一百公里")]),
        ("重1.5kg", [("zh", "重一点五千克")]),
        ("面积50m²", [("zh", "面积五十平方米")]),
        ("风速3m/s", [("zh", "风速每秒三米")]),
        ("用了10kWh电", [("zh", "用了十千瓦时电")]),
        ("电池5000mAh", [("zh", "电池五千毫安时")]),
        ("宽带100Mbps", [("zh", "宽带一百兆比特每秒")]),
        ("下载速度10MB/s", [("zh", "下载速度每秒十兆")]),
        ("游戏跑到120fps", [("zh", "游戏跑到一百二十帧每秒")]),
        ("2GB流量", [("zh", "两G流量")]),
        # versions and numbers next to product names: read in Chinese
        ("v2.3.1版本", [("zh", "V二点三点一版本")]),
        ("V1.0版本发布", [("zh", "V一点零版本发布")]),
        ("升级到iOS 17了", [("zh", "升级到iOS 十七了")]),
        ("我在学Java 21", [("zh", "我在学"), ("en", "Java"), ("zh", "二十一")]),
        ("Python 3.12发布了", [("en", "Python"), ("zh", "三点一二发布了")]),
        ("iPhone 15 Pro很贵", [("en", "iPhone"), ("zh", "十五"), ("en", "Pro"), ("zh", "很贵")]),
        ("COVID-19疫情", [("en", "COVID-"), ("zh", "十九疫情")]),
        ("1080P的视频", [("zh", "一零八零P的视频")]),
        # words stay English, and English phrases keep their numbers
        ("我在用iPhone拍照", [("zh", "我在用"), ("en", "iPhone"), ("zh", "拍照")]),
        ("连上Wi-Fi了", [("zh", "连上"), ("en", "Wi-Fi"), ("zh", "了")]),
        ("他说I was born in 1990", [("zh", "他说"), ("en", "I was born in nineteen ninety")]),
        ("Plan A is better，对吧", [("en", "Plan A is better，"), ("zh", "对吧")]),
    ],
)
def test_latin_inside_chinese(normalizer: TextNormalizer, text: str, expected: Runs) -> None:
    assert runs(normalizer, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the other rows of docs/reading.md's table
        ("v8引擎", [("zh", "V八引擎")]),
        ("Qwen2.5很好", [("en", "Qwen"), ("zh", "二点五很好")]),
        ("720p视频", [("zh", "七二零P视频")]),
        ("1Gbps光纤", [("zh", "一吉比特每秒光纤")]),
        ("转速3000rpm", [("zh", "转速三千转每分钟")]),
        ("面积5km²", [("zh", "面积五平方公里")]),
        ("体积2m³", [("zh", "体积两立方米")]),
        ("跑了5km", [("zh", "跑了五公里")]),
        ("喝了500ml水", [("zh", "喝了五百毫升水")]),
        ("主频3.2GHz", [("zh", "主频三点二吉赫兹")]),
        ("气压101kPa", [("zh", "气压一百零一千帕")]),
        ("7nm工艺", [("zh", "七纳米工艺")]),
        ("7B模型", [("zh", "七B模型")]),
        ("1TB硬盘", [("zh", "一T硬盘")]),
        ("去ICBC办卡", [("zh", "去ICBC办卡")]),
        ("学HTML", [("zh", "学HTML")]),
        ("来自U.S.A", [("zh", "来自U.S.A")]),
        ("下载app", [("zh", "下载app")]),
        ("用ChatGPT写", [("zh", "用"), ("en", "ChatGPT"), ("zh", "写")]),
        ("发e-mail给我", [("zh", "发"), ("en", "e-mail"), ("zh", "给我")]),
        *[(w + "发布", [("en", w), ("zh", "发布")]) for w in ("COVID", "NASA", "NATO", "UNESCO", "JSON")],
    ],
)
def test_documented_kinds(normalizer: TextNormalizer, text: str, expected: Runs) -> None:
    assert runs(normalizer, text) == expected


def test_letters_only_segment_in_a_chinese_document(normalizer: TextNormalizer) -> None:
    # a segment without Han text in a Chinese reply: initialisms and units are still Chinese
    assert runs(normalizer, "512MB", "zh") == [("zh", "五百一十二兆")]
    assert runs(normalizer, "iOS 17", "zh") == [("zh", "iOS 十七")]
    # an English sentence stays English, in either document
    assert runs(normalizer, "I have 3 apples.", "zh") == [("en", "I have three apples.")]
    assert runs(normalizer, "We use 5G and 300MB.", "en")[0][0] == "en"


@pytest.mark.parametrize(
    ("token", "spelled_"),
    [
        *[(t, True) for t in ("A", "x", "NBA", "CEO", "iOS", "mRNA", "USB-C", "U.S.A", "HTML", "CCTV")],
        *[(t, True) for t in ("ICBC", "IEEE", "HTTPS", "ppt", "mp", "app", "CEOs", "YYDS")],
        *[(t, False) for t in ("COVID", "NASA", "NATO", "UNESCO", "JSON", "IKEA", "OPPO", "ADDRESS")],
        *[(t, False) for t in ("iPhone", "Java", "Wi-Fi", "e-mail", "T-shirt", "why", "Pro", "MacBook")],
    ],
)
def test_is_spelled(token: str, spelled_: bool) -> None:
    assert is_spelled(token) is spelled_


def test_latin_rules_are_idempotent() -> None:
    once = rules_latin_zh("v2.3.1和1080p、720P")
    assert once == "V2.3.1和一零八零P、七二零P"
    assert rules_latin_zh(once) == once


_LETTER = re.compile(r"[A-Za-z]")
_PIECES = "A b NBA iPhone GPT - 4 16 2.5 MB km/h kg o 股 信号 版本 v Java ， 。 的 G 3D x I is H5 m² 1080P"
_chunks = st.sampled_from([*_PIECES.split(" "), " "])


@given(text=st.lists(_chunks, min_size=1, max_size=12).map("".join))
@settings(max_examples=200, deadline=None)
def test_no_latin_letter_is_lost(normalizer: TextNormalizer, fe: MandarinFrontend, text: str) -> None:
    """Every Latin letter of a zh run reaches the Mandarin voice as syllables; en runs go whole to
    the English voice. Counted on the G2P output: at least one syllable per letter and Han char."""
    for lang, spoken in runs(normalizer, text):
        if lang != "zh":
            assert _LETTER.search(spoken) or spoken.strip(" ，。-"), spoken
            continue
        letters = sum(1 for ch in spoken if spelled(ch) is not None)
        han = sum(1 for ch in spoken if "\u4e00" <= ch <= "\u9fff")
        syllables = sum(1 for sent in fe.sentences(spoken) for p in sent if p[-1:].isdigit() and p[0] != "#")
        assert syllables >= letters + han, (text, spoken)
