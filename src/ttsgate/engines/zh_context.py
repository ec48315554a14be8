"""Context rules for Mandarin polyphones that a phrase dictionary cannot decide.

pypinyin reads a polyphone inside a dictionary phrase by the phrase (银行 yin2 hang2) and a
polyphone standing alone by its first-listed reading (长 zhang3, 得 de2, 地 di4), which is wrong
whenever the reading depends on the words around it rather than on one fixed word: 很长 (chang2,
an adjective after a degree adverb), 长得很高 (zhang3 "grow", de5 a complement marker), 我得走了
(dei3 "must"), 慢慢地走 (de5 an adverbial marker). ``apply`` rewrites such readings in place:

* 长: chang2 after a degree adverb (很 太 真 多 好 挺 最 更 这么 那么 比较 特别 …); zhang3 before
  what "grow" takes (得 大 高 出 成 胖 满 着 …); else chang2 (the adjective "long").
* 得 (alone): after a pronoun or subject and before a verb dei3 ("must"; de2 before 了, 我得了感冒);
  after a verb or adjective de5 (跑得快, 长得高); after an adverb (还得, 就得) dei3; a noun subject
  before a verb (这件事得马上办) dei3.
* 地 (alone): de5 after an adjective, adverb or reduplication and before a verb (认真地说, 慢慢地走).
* 了 liao3 in a potential complement (V不了, V得了); 着 zhao2 in V不着 / V得着.
* 行 hang2 and 只 zhi1 as measure words after a numeral; 重 chong2 before a verb it repeats (重来);
  还 huan2 before what is given back (还钱, 还书); 数 shu3 "count" (数钱, 数不清); 觉 jiao4 "a sleep"
  (睡了一觉); 种 zhong4 "plant" (种树, 种了); 调 tiao2 "adjust" (调高, 调一下); 教 jiao1 as a verb;
  曾 zeng1 as a surname (姓曾, 曾先生).

Word classes (verb, adjective, adverb …) come from jieba's dictionary tags
(https://github.com/fxsjy/jieba, MIT), loaded once per process (~0.5 s, ~15 MB): the longest
dictionary word that ends right before a character is its left neighbour.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Mapping, Sequence

_PRONOUN_CHARS = frozenset("我你他她它您们咱谁")
_SUBJECT_WORDS = frozenset(["大家", "自己", "人家", "别人", "大伙", "咱们", "各位", "我们", "你们", "他们"])
_DEGREE = frozenset([
    "很", "太", "真", "多", "好", "挺", "最", "更", "越", "较", "蛮", "够", "超", "极", "老", "不",
    "特", "贼", "这么", "那么", "多么", "有多", "比较", "特别", "非常", "十分", "相当", "有点",
    "有些", "越来越", "这样", "那样",
])  # fmt: skip
_GROW_NEXT = frozenset("得大高出成胖满着在起齐歪毛草肉牙个")
_COMPLEMENT_NEXT = frozenset("很太真非挺不更越十特极蛮够满像一")
_NUMERALS = frozenset("一二三四五六七八九十两几百千万第每多0123456789")
_MEASURE_PREV = _NUMERALS | frozenset("这那哪各某每何该此别另同诸")
_HANG_NOT_NEXT = frozenset("人动走驶进")
_ZHI_NOT_NEXT = frozenset("是有要能会好不想需在剩用说知怕管见得顾许")
_CHONG_NEXT = frozenset("来做写建装启申考读播修拍选组置演订画排印返逢叠聚游温弹算")
_HUAN_NEXT = frozenset("给钱书债款贷账清")
_SHU_NEXT = frozenset("钱数星不到着了过票")
_ZHONG4_NEXT = frozenset("树花菜田草稻麦瓜豆苗")
_ZHONG4_AFTER_VERB = frozenset("了着过在下")
_TIAO_NEXT = frozenset("高低大小好快慢亮暗准匀成")
_JIAO4_PREV = frozenset("一个午好懒")
_JIAO4_NEXT = frozenset("室育授师练材案堂会员务皇主派徒条义科研导学")
_GROW_AFTER = frozenset("上里")  # 脸上长了, 地里长出
_ZENG_NEXT2 = frozenset({"先生", "老师", "女士", "小姐", "医生", "教授", "同学", "总理", "阿姨"})
_PREDICATE_TAGS = frozenset({"v", "vd", "vi", "vg", "vq", "a", "ad", "ag", "an", "z"})
_MANNER_TAGS = frozenset({"a", "ad", "ag", "an", "z", "d", "b", "i", "l", "vd"})
_KEPT_TAGS = _PREDICATE_TAGS | _MANNER_TAGS | {"r", "vn"}
_MAX_WORD = 4
_lock = threading.Lock()


@functools.cache
def _tags() -> Mapping[str, str]:
    """{word: jieba tag} for the verbs, adjectives, adverbs and pronouns of jieba's dictionary."""
    from ttsgate.text.words import jieba  # imported there without its escape-sequence warnings

    path = os.path.join(os.path.dirname(jieba.__file__), jieba.DEFAULT_DICT_NAME)
    out: dict[str, str] = {}
    with _lock, open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and len(parts[0]) <= _MAX_WORD and parts[2] in _KEPT_TAGS:
                out[parts[0]] = parts[2]
    return out


def warm() -> None:
    """Load the word classes now (engine load) rather than on the first sentence that needs them."""
    _tags()


def _before(run: str, k: int) -> tuple[str, str]:
    """The word right before ``run[k]`` and its tag: the longest tagged dictionary word ending
    there, else the single character with tag ""."""
    tags = _tags()
    for n in range(min(_MAX_WORD, k), 0, -1):
        tag = tags.get(run[k - n : k])
        if tag is not None:
            return run[k - n : k], tag
    return run[k - 1 : k], ""


def _degree_before(run: str, k: int) -> bool:
    return any(run[max(0, k - n) : k] in _DEGREE for n in (1, 2, 3) if k >= n)


def apply(run: str, raw: list[str], single: Sequence[bool], fixed: Sequence[bool]) -> None:
    """Rewrite ``raw`` (TONE3 pinyin per character of ``run``) where the context decides.
    ``single[k]``: character k is a word of its own for pypinyin (its reading is the character's
    default); ``fixed[k]``: an override or a lexicon reading, never touched."""
    for k, ch in enumerate(run):
        if fixed[k]:
            continue
        nxt = run[k + 1 : k + 2]
        prev = run[k - 1 : k]
        new = _measure(ch, prev, nxt)
        if new is None and single[k]:
            new = _single(run, k, ch, prev, nxt, raw)
        if new is not None:
            raw[k] = new


def _measure(ch: str, prev: str, nxt: str) -> str | None:
    """Measure words after a numeral, also inside pypinyin phrases (一行 is yi1 xing2 there)."""
    if ch == "行" and prev in _NUMERALS and nxt not in _HANG_NOT_NEXT:
        return "hang2"  # 一行字, 第三行
    if ch == "只" and prev in _MEASURE_PREV and nxt and nxt not in _ZHI_NOT_NEXT:
        return "zhi1"  # 两只猫, 这只狗
    return None


def _single(run: str, k: int, ch: str, prev: str, nxt: str, raw: list[str]) -> str | None:
    if ch == "长":
        if _degree_before(run, k):
            return "chang2"
        grows = nxt in _GROW_NEXT or (nxt == "了" and prev in _GROW_AFTER)
        return "zhang3" if grows else "chang2"
    if ch == "得":
        return _de(run, k, prev, nxt)
    if ch == "地" and nxt and prev and prev != "的":
        word, tag = _before(run, k)
        redup = len(word) == 1 and k >= 2 and run[k - 2] == prev
        if tag in _MANNER_TAGS or redup or (tag == "v" and len(word) >= 2):
            return "de5"
        return None
    if ch == "了" and k >= 2 and nxt != "之":
        if prev == "不" or (prev == "得" and raw[k - 1] == "de5"):
            return "liao3"  # 走不了, 吃得了
        return None
    if ch == "着" and k >= 2 and (prev == "不" or (prev == "得" and raw[k - 1] == "de5")):
        return "zhao2"  # 睡不着, 够得着
    if ch == "重" and nxt in _CHONG_NEXT and not _degree_before(run, k):
        return "chong2"
    if ch == "还" and (nxt in _HUAN_NEXT or (not nxt and k > 0)):  # 还钱, 借钱要还
        return "huan2"
    if ch == "数" and (nxt in _SHU_NEXT or run[k + 1 : k + 3] in ("一数", "一下", "了数")):
        return "shu3"
    if ch == "觉" and prev in _JIAO4_PREV and "睡" in run[max(0, k - 4) : k]:
        return "jiao4"
    if ch == "种" and (nxt in _ZHONG4_NEXT or (nxt in _ZHONG4_AFTER_VERB and prev not in _MEASURE_PREV)):
        return "zhong4"
    if ch == "调" and (nxt in _TIAO_NEXT or run[k + 1 : k + 3] == "一下"):
        return "tiao2"
    if ch == "教" and nxt:
        return (
            "jiao4" if nxt in _JIAO4_NEXT else "jiao1"
        )  # the verb: 他教我游泳 (教室, 教育 … are dictionary words)
    if ch == "曾" and (prev == "姓" or run[k + 1 : k + 3] in _ZENG_NEXT2 or nxt in ("总", "某", "氏")):
        return "zeng1"
    return None


def _de(run: str, k: int, prev: str, nxt: str) -> str | None:
    """得 standing alone: de2 "obtain", de5 the complement marker, dei3 "must"."""
    if not prev:
        return None
    word, tag = _before(run, k)
    if prev in _PRONOUN_CHARS or word in _SUBJECT_WORDS or tag == "r":
        return "de2" if nxt in ("", "了") else "dei3"
    if tag in _PREDICATE_TAGS:
        return "de5"  # 跑得快, 长得高, 好得很
    if not nxt:
        return None
    if tag == "d":
        return "dei3"  # 还得去, 就得走, 也得
    if nxt in _COMPLEMENT_NEXT:
        return "de5"  # 病得很重
    return "dei3" if nxt != "了" else None  # 这件事得马上办, 明天得下雨
