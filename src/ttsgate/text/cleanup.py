"""LLM-output cleanup: what a Markdown-writing chatbot says must not be spoken raw.

Choices (the spoken replacement depends on the document language, zh unless mostly Latin):

* reasoning blocks (``<think>`` …) and ``<details>`` blocks removed first (``hidden.py``)
* fenced code blocks → a short placeholder sentence, 代码略。 / "Code omitted."
* inline code → its text when it is a short plain word (``foo_bar`` → "foo bar"), else 代码 / "code"
* links ``[text](url)`` → text; images → their alt text
* bare URLs → the host name without ``www.``, dots read 点 / "dot", digits spelled one by one
  (so ``163.com`` → 一六三点com, never 一百六十三); a URL without a host → 链接 / "a link"
* e-mail addresses → "user at host" with the same spelling rules (zh: ``user at example点com``);
  a URL or address ends at whitespace, a Han character or full-width punctuation, also when it is
  written straight against Chinese (访问https://example.com了解更多 → 访问example点com了解更多)
* footnote markers ``[^1]`` removed; HTML entities decoded (``&amp;`` → &, ``&nbsp;`` → a space)
* Markdown emphasis (``*x*``, ``_x_``, ``**x**``, ``~~x~~``) also where CommonMark's flanking rules
  fail next to CJK (请*务必*提交, 用*pip*安装, 的_强调_的), but not inside ``snake_case`` or ``2*3*4``;
  a stray ``*`` removed unless it stands between two Latin letters or digits (an operator);
  block quotes, list markers and horizontal rules removed; a list item or heading is a phrase of
  its own (。 / "." added when it ends without a mark, so the voice pauses after it);
  HTML tags removed, except a lone opening tag named as a word of the prose (使用<div>元素 →
  使用div元素, "the <p> tag"), which is read as its name;
  table rows → cells joined with ， / ", "; table separator rows dropped
* emoji and pictographs removed; runs of blank lines and spaces collapsed
"""

from __future__ import annotations

import html
import re

from ttsgate.text.hidden import CODE_PLACEHOLDER, strip_hidden
from ttsgate.text.numbers_en import digit_string as en_digits
from ttsgate.text.numbers_zh import digit_string as zh_digits
from ttsgate.text.runs import detect_language

_FENCE = re.compile(r"^[ \t]*(```|~~~)[^\n]*\n.*?(?:^[ \t]*\1[ \t]*$|\Z)", re.S | re.M)
_INLINE_CODE = re.compile(r"`+([^`\n]+)`+")
_IMAGE = re.compile(r"!\[([^\]\n]*)\]\([^)\n]*\)")
_LINK = re.compile(r"\[([^\]\n]+)\]\((?:[^()\n]|\([^)\n]*\))*\)")
_REF_DEF = re.compile(r"^\s*\[[^\]\n]+\]:\s*\S+.*$", re.M)
# An address ends at whitespace, a Han character or full-width punctuation (访问example.com了解更多):
# Python counts Han as word characters, so ``\b`` is no boundary there (the address starts after Han
# too). A trailing ASCII mark (``.`` ``,`` ``!`` …) ends the sentence, not the address.
_NOT_IN_ADDRESS = "\\s<>\"'\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef"
EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])([A-Za-z0-9._%+\-]+)@([A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)(?![A-Za-z0-9\-])"
)
URL = re.compile(
    r"(?<![A-Za-z0-9_.\-/@])(?:(?:https?|ftp)://|www\.)([A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*)?(?::\d+)?"
    rf"(?:[^{_NOT_IN_ADDRESS}]*[^{_NOT_IN_ADDRESS}.,;:!?])?",
    re.I,
)
_HTML = re.compile(r"</?([A-Za-z][A-Za-z0-9]*)(\s[^<>]*)?/?>")
# A tag named as a word of the prose (使用<div>元素, the <p> tag) is read as its name, not dropped.
_TAG_WORD = re.compile(r"[ \t]?(?:元素|标签|標籤|标记|標記|节点|節點|(?:tag|element)s?(?![A-Za-z]))", re.I)
_VOID_TAGS = frozenset({"br", "hr", "img", "wbr"})
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_FOOTNOTE = re.compile(r"\[\^[^\]\s]{1,32}\]")
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(.*?)[ \t#]*$", re.M)
_QUOTE = re.compile(r"^[ \t]*(?:>[ \t]?)+", re.M)
_LIST = re.compile(r"^[ \t]*(?:[-*+•]|\d{1,3}[.)])[ \t]+(?:\[[ xX]\][ \t]+)?(.*?)[ \t]*$", re.M)
_PHRASE_END = frozenset("。！？；…，、：.!?;:,")  # a list item or heading ending so needs no mark
_RULE = re.compile(r"^[ \t]*(?:[-*_][ \t]*){3,}$", re.M)
_TABLE_SEP = re.compile(r"^[ \t]*\|?[ \t]*:?-{2,}:?[ \t]*(?:\|[ \t]*:?-{2,}:?[ \t]*)*\|?[ \t]*$", re.M)
_TABLE_ROW = re.compile(r"^[ \t]*\|(.*)\|[ \t]*$", re.M)
_EMPHASIS = (  # (marker)(content); CommonMark's flanking rules fail next to CJK (请*务必*提交), so:
    re.compile(r"(\*\*\*|___)(?=\S)(.+?)(?<=\S)\1"),
    re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"),
    re.compile(r"(~~)(?=\S)(.+?)(?<=\S)\1"),
    # _x_ unless a Latin letter or digit touches it outside (snake_case_name stays whole)
    re.compile(r"(?<![A-Za-z0-9_\\])(_)(?=[^\s_])(.+?)(?<=[^\s_\\])_(?![A-Za-z0-9_])"),
)
# *x* anywhere but between two Latin letters or digits (2*3*4, a*b*c): checked in _star
_STAR = re.compile(r"(?<![*\\])\*(?=[^\s*])(.+?)(?<=[^\s*\\])\*(?!\*)")
_STRAY_STAR = re.compile(r"[ \t]*\*+[ \t]*")
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U0001fc00-\U0001ffff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff"
    "\ufe0e\ufe0f\u200d\u20e3\U000e0020-\U000e007f]"
)
_SPACES = re.compile(r"[ \t]{2,}")
_BLANKS = re.compile(r"\n{3,}")
_PLAIN_WORD = re.compile(r"[A-Za-z][A-Za-z_\-]{0,24}")
_CODE_TAG = re.compile(r"</?([A-Za-z][A-Za-z0-9]*)\s*/?>")


def _spell_host(host: str, lang: str) -> str:
    host = re.sub(r"^www\.", "", host, flags=re.I)
    dot = "点" if lang == "zh" else " dot "
    spelled = re.sub(r"\d+", lambda m: zh_digits(m.group(0)) if lang == "zh" else en_digits(m.group(0)), host)
    return spelled.replace(".", dot)


def _url(m: re.Match[str], lang: str) -> str:
    host = m.group(1)
    if not host:
        return "链接" if lang == "zh" else "a link"
    return _spell_host(host, lang)


def _email(m: re.Match[str], lang: str) -> str:
    user = re.sub(r"[._\-+]+", " ", m.group(1)).strip()
    user = re.sub(r"\d+", lambda d: zh_digits(d.group(0)) if lang == "zh" else en_digits(d.group(0)), user)
    return f"{user} at {_spell_host(m.group(2), lang)}"


def _inline_code(m: re.Match[str], lang: str) -> str:
    body = m.group(1).strip()
    if _PLAIN_WORD.fullmatch(body):
        return body.replace("_", " ")
    if tag := _CODE_TAG.fullmatch(body):
        return tag.group(1)  # `<div>` → div
    return "代码" if lang == "zh" else "code"


def _table_row(m: re.Match[str], lang: str) -> str:
    cells = [c.strip() for c in m.group(1).split("|") if c.strip()]
    sep = "，" if lang == "zh" else ", "
    return sep.join(cells) + ("。" if lang == "zh" else ".")


def _phrase(text: str, lang: str) -> str:
    """A list item or heading as a phrase of its own: a sentence mark when it has none, so the voice
    pauses after it (a line break alone is no pause once short lines share a segment)."""
    if not text or text[-1] in _PHRASE_END:
        return text
    return text + ("。" if lang == "zh" else ".")


def _html(m: re.Match[str]) -> str:
    """HTML markup is dropped; a lone opening tag named as a word (使用<div>元素, the <p> tag) is
    prose about HTML, read as its name."""
    name, whole = m.group(1), m.group(0)
    if whole.startswith("</") or m.group(2) or whole.endswith("/>") or name.lower() in _VOID_TAGS:
        return ""
    return name if _TAG_WORD.match(m.string, m.end()) else ""


def _star(m: re.Match[str]) -> str:
    s = m.string
    before, after = s[m.start() - 1 : m.start()], s[m.end() : m.end() + 1]
    if before.isascii() and before.isalnum() and after.isascii() and after.isalnum():
        return m.group(0)  # 2*3*4, a*b*c: not emphasis
    return m.group(1)


def _stray_star(m: re.Match[str]) -> str:
    """A ``*`` left after emphasis is an operator between two Latin letters or digits, else noise
    (the English voice says "asterisk")."""
    s = m.string
    before, after = s[m.start() - 1 : m.start()], s[m.end() : m.end() + 1]
    if before.isascii() and before.isalnum() and after.isascii() and after.isalnum():
        return m.group(0)
    return " " if m.group(0).startswith((" ", "\t")) and m.group(0).endswith((" ", "\t")) else ""


def clean_for_speech(text: str) -> str:
    """Turn Markdown-ish LLM output into plain text that is safe to normalise and speak."""
    text = strip_hidden(text)
    if not text:
        return ""
    lang = detect_language(URL.sub(" ", EMAIL.sub(" ", _FENCE.sub(" ", text))))
    code = CODE_PLACEHOLDER[lang]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _FENCE.sub("\n" + code + "\n", text)
    text = _INLINE_CODE.sub(lambda m: _inline_code(m, lang), text)
    text = _IMAGE.sub(lambda m: m.group(1), text)
    text = _LINK.sub(lambda m: m.group(1), text)
    text = _REF_DEF.sub("", text)
    text = _FOOTNOTE.sub("", text)
    text = EMAIL.sub(lambda m: _email(m, lang), text)
    text = URL.sub(lambda m: _url(m, lang), text)
    text = _HTML.sub(_html, text)
    text = _ENTITY.sub(lambda m: html.unescape(m.group(0)), text).replace("\xa0", " ")
    text = _TABLE_SEP.sub("", text)
    text = _TABLE_ROW.sub(lambda m: _table_row(m, lang), text)
    text = _RULE.sub("", text)
    text = _HEADING.sub(lambda m: _phrase(m.group(1), lang), text)
    text = _QUOTE.sub("", text)
    text = _LIST.sub(lambda m: _phrase(m.group(1), lang), text)
    for pattern in _EMPHASIS:
        text = pattern.sub(lambda m: m.group(2), text)
    text = _STAR.sub(_star, text)
    text = _STRAY_STAR.sub(_stray_star, text)
    text = _EMOJI.sub("", text)
    text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _BLANKS.sub("\n\n", text).strip()
