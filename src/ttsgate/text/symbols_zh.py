"""Math and typographic symbols in Chinese text: each is read, or left on purpose, never dropped by
the voice without a word.

``rules_zh`` runs ``symbols_early`` before it reads any number (the symbols decide how the numbers
around them are read) and ``symbols_late`` last, on whatever symbol is still in the text, numbers
already read or not (已知a>b has no digit at all):

- LaTeX an LLM writes (``$a^2+b^2=c^2$``, ``\\(…\\)``, ``$$…$$``): the delimiters go, commands are
  read (``\\frac{a}{b}`` → b分之a, ``\\sqrt`` 根号, ``\\times`` 乘, ``\\pm`` 正负, ``\\leq`` 小于等于 …),
  braces go, operators are read: a的平方加b的平方等于c的平方;
- powers: ``2^10`` → 二的十次方, ``3²`` → 三的平方, ``x³`` → x的立方, ``10⁻³`` → 十的负三次方
  (not after a unit: 50m² is 五十平方米);
- angles and durations with primes: ``116°23′`` → 一百一十六度二十三分, ``2'30"`` → 两分三十秒,
  a lone ``′`` 分, ``″`` 秒;
- vulgar fractions: ``1½`` → 一又二分之一, ``¼`` → 四分之一;
- a minus after 零下 is the same word said twice and is dropped: 零下-5度 → 零下五度;
- a unit said before the number is not said again after it: 华氏98.6°F → 华氏九十八点六度;
- ``SYMBOLS`` (= ≠ ≈ ≤ ≥ × ÷ ± √ ∞ ° ′ ″ ² ³) are read wherever they are left; ``<`` ``>`` and
  ``+`` between two operands (a>b, a+b) are 小于 / 大于 / 加.

Left on purpose (documented in docs/reading.md): ``·`` (a name separator, 克里斯·保罗, or a date
dot, 九·一八; in LaTeX ``\\cdot`` is 乘), ``…`` (a pause), ``-`` between words (Wi-Fi).
"""

from __future__ import annotations

import re
import unicodedata

from ttsgate.text.numbers_zh import cardinal, decimal

#: Symbols read wherever they are left (after the number rules).
SYMBOLS: dict[str, str] = {
    "≠": "不等于", "≈": "约等于", "≤": "小于等于", "≥": "大于等于", "⩽": "小于等于", "⩾": "大于等于",
    "=": "等于", "×": "乘", "÷": "除以", "±": "正负", "∓": "负正", "√": "根号", "∞": "无穷大",
    "°": "度", "′": "分", "″": "秒", "²": "的平方", "³": "的立方",
}  # fmt: skip
#: LaTeX commands → their reading (commands not listed lose their backslash: \sin → sin).
LATEX: dict[str, str] = {
    "times": "乘", "cdot": "乘", "div": "除以", "pm": "正负", "mp": "负正", "leq": "小于等于",
    "le": "小于等于", "geq": "大于等于", "ge": "大于等于", "neq": "不等于", "ne": "不等于",
    "approx": "约等于", "infty": "无穷大", "pi": "派", "alpha": "阿尔法", "beta": "贝塔",
    "gamma": "伽马", "delta": "德尔塔", "theta": "西塔", "lambda": "兰姆达", "mu": "缪", "sigma": "西格玛",
    "sum": "求和", "int": "积分", "to": "趋于", "rightarrow": "推出", "Rightarrow": "推出",
    "left": "", "right": "", "quad": " ", "qquad": " ", ",": "", ";": "", "!": "",
}  # fmt: skip
_LATEX_OPS = {"+": "加", "=": "等于", "<": "小于", ">": "大于", "/": "除以", "*": "乘"}

_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
_VULGAR = "½⅓⅔¼¾⅕⅖⅗⅘⅙⅚⅐⅛⅜⅝⅞⅑⅒"
_NUM = r"\d+(?:\.\d+)?"
_LATEX_SPAN = re.compile(r"\$\$(.+?)\$\$|\$(?=\S)([^$\n]+?)(?<=\S)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.S)
_FRAC = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_SQRT = re.compile(r"\\sqrt\s*(?:\[([^\]]*)\])?\s*\{([^{}]*)\}")
_TEXT = re.compile(r"\\(?:text|mathrm|mathbf|mathit|operatorname)\s*\{([^{}]*)\}")
_COMMAND = re.compile(r"\\([A-Za-z]+|[,;!])")
_POWER = re.compile(
    r"(?<=[0-9A-Za-z)\]}])\s?\^\s?(?:\{\s*(-?\s?[0-9A-Za-z]+)\s*\}|(-?[0-9]+(?![.\d])|[A-Za-z]))"
)
_SUPER_RUN = re.compile(r"(?:(?<=[0-9)])|(?<![0-9A-Za-z])(?<=[A-Za-z]))([⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+)")
_SUBSCRIPT = re.compile(r"_\{([^{}]*)\}|_(?=[0-9A-Za-z])")
_LATEX_MINUS = re.compile(r"(?<=[0-9A-Za-z)}\]方])\s*-\s*")
_DMS = re.compile(r"(" + _NUM + r")°\s?(" + _NUM + r")[′']\s?(?:(" + _NUM + r")[″\"])?")
_MIN_SEC = re.compile(r"(?<![\d.°])(\d+)['′](\d{1,2}(?:\.\d+)?)[\"″]")
_PRIME = re.compile(r"(?<![\d.])(" + _NUM + r")([′″])")
_FRACTION_CHAR = re.compile(r"(\d+)?\s?([" + _VULGAR + r"])")
_BELOW_ZERO = re.compile(r"(零下\s*)-\s*(?=\d)")
_PREFIX_UNIT = re.compile(r"(华氏|摄氏|華氏|攝氏)([负負]?[零一二三四五六七八九十百千万萬两兩点點]+)\1度")
_OPERAND = r"[0-9A-Za-z)\]）零一二三四五六七八九十百千万亿两点方]"
_COMPARE = re.compile(r"(?<=" + _OPERAND + r")\s*(<=|>=|!=|==|(?<![<>=-])[<>](?![<>=]))\s*(?=[-\w(（])")
_PLUS = re.compile(r"(?<=" + _OPERAND + r")\s*\+\s*(?=[\w(（])")
_COMPARE_WORDS = {"<=": "小于等于", ">=": "大于等于", "!=": "不等于", "==": "等于", "<": "小于", ">": "大于"}
_SYMBOL = re.compile("[" + re.escape("".join(SYMBOLS)) + "]")


def _power(exponent: str) -> str:
    exponent = exponent.replace(" ", "")
    if exponent in ("2", "3"):
        return "的平方" if exponent == "2" else "的立方"
    return "的" + ("负" + exponent[1:] if exponent.startswith("-") else exponent) + "次方"


def _latex(body: str) -> str:
    body = _TEXT.sub(lambda m: m.group(1), body)
    for _ in range(3):  # nested \frac{\frac{a}{b}}{c}
        body = _FRAC.sub(lambda m: m.group(2) + "分之" + m.group(1), body)
        body = _SQRT.sub(lambda m: (m.group(1) + "次" if m.group(1) else "") + "根号" + m.group(2), body)
    body = _COMMAND.sub(lambda m: LATEX.get(m.group(1), m.group(1)), body)
    body = _POWER.sub(lambda m: _power(m.group(1) or m.group(2)), body)
    body = _SUBSCRIPT.sub(lambda m: m.group(1) or "", body)
    body = _LATEX_MINUS.sub("减", body).replace("{", "").replace("}", "")
    body = re.sub(r"\s*([+=<>/*])\s*", lambda m: _LATEX_OPS[m.group(1)], body)
    return re.sub(r"\s{2,}", " ", body).strip()


def latex(text: str) -> str:
    """``$…$``, ``$$…$$``, ``\\(…\\)``, ``\\[…\\]`` holding math → read; ``$5 and $10`` is money."""

    def span(m: re.Match[str]) -> str:
        body = next(g for g in m.groups() if g is not None)
        if m.group(2) is not None and not re.search(r"[\\^_={}]", body):
            return m.group(0)  # $5 and $10: two amounts, not math
        return _latex(body)

    return _LATEX_SPAN.sub(span, text) if ("$" in text or "\\" in text) else text


def _vulgar(m: re.Match[str]) -> str:
    """1½ → 一又二分之一, ⅒ → 十分之一 (the numerator and denominator from the character's decomposition)."""
    codes = unicodedata.decomposition(m.group(2)).split()[1:]  # "<fraction> 0031 2044 0032"
    cut = codes.index("2044")
    num, den = ("".join(chr(int(c, 16)) for c in part) for part in (codes[:cut], codes[cut + 1 :]))
    return (cardinal(m.group(1)) + "又" if m.group(1) else "") + cardinal(den) + "分之" + cardinal(num)


def symbols_early(text: str) -> str:
    """Symbols that decide how the numbers next to them are read (before any number is read)."""
    text = latex(text)
    if not re.search(r"[\^⁰¹²³⁴⁵⁶⁷⁸⁹°′″'\"" + _VULGAR + r"]|零下", text):
        return text
    text = _DMS.sub(
        lambda m: decimal(m.group(1)) + "度" + decimal(m.group(2)) + "分"
        + (decimal(m.group(3)) + "秒" if m.group(3) else ""),
        text,
    )  # fmt: skip
    text = _MIN_SEC.sub(lambda m: cardinal(m.group(1), liang=True) + "分" + decimal(m.group(2)) + "秒", text)
    text = _PRIME.sub(lambda m: decimal(m.group(1)) + ("分" if m.group(2) == "′" else "秒"), text)
    text = _FRACTION_CHAR.sub(_vulgar, text)
    text = _POWER.sub(lambda m: _power(m.group(1) or m.group(2)), text)
    text = _SUPER_RUN.sub(lambda m: _power(m.group(1).translate(_SUPERSCRIPT)), text)
    return _BELOW_ZERO.sub(lambda m: m.group(1), text)


def symbols_late(text: str) -> str:
    """Every symbol still in the text is read (after the number rules)."""
    text = _PREFIX_UNIT.sub(lambda m: m.group(1) + m.group(2) + "度", text)
    text = _SYMBOL.sub(lambda m: SYMBOLS[m.group(0)], text)
    text = _COMPARE.sub(lambda m: _COMPARE_WORDS[m.group(1)], text)
    return _PLUS.sub("加", text)
