"""Simplified or Traditional: which script a Chinese sentence is written in, and the Traditional
form of what the number rules write.

The rules write Simplified (两, 点, 万, 负, 摄氏度 …). In a sentence written in Traditional
characters (有2個人, 溫度-3℃) that would mix scripts on screen and in subtitles, so
``rules_zh`` passes its output through ``to_traditional`` when ``is_traditional`` says the
sentence is Traditional: 有2個人 → 有兩個人, 3.5萬 → 三點五萬.

Only one-to-one pairs whose Simplified character is never written in Traditional text are listed
(后/後, 只/隻, 台/臺, 于/於, 里/裡, 发/發/髮 are not: both scripts use the first), so converting a
Traditional sentence never changes a character its writer chose. 等于/大于/小于 (written by the math
rules) are converted as words. The pairs are the standard Simplified ↔ Traditional correspondences
(the Table of General Standard Chinese Characters, 2013); no Taiwan/Hong Kong regional variants.
"""

from __future__ import annotations

#: (Simplified, Traditional) pairs, one character each: the characters the number rules write, the
#: measure words and keywords they look for, and frequent characters that tell the scripts apart.
_PAIRS = " ".join(
    (
        "两兩 点點 负負 万萬 亿億 号號 约約 摄攝 时時 钟鐘 华華 吨噸 兹茲 贝貝 减減 欧歐 镑鎊 韩韓",
        "卢盧 杠槓 纳納 亩畝 个個 条條 张張 辆輛 项項 处處 间間 块塊 场場 双雙 对對 门門 页頁 层層",
        "颗顆 顿頓 声聲 种種 样樣 组組 节節 辈輩 届屆 轮輪 笔筆 岁歲 栋棟 头頭 户戶 盘盤 际際 赛賽",
        "战戰 击擊 胜勝 获獲 险險 横橫 扫掃 败敗 输輸 给給 领領 绝絕 杀殺 队隊 总總 数數 绩績 转轉",
        "电電 话話 码碼 机機 热熱 线線 验驗 证證 动動 单單 订訂 编編 运運 递遞 邮郵 帐帳 账賬 车車",
        "拨撥 请請 区區 这這 们們 来來 说說 为為 会會 国國 学學 过過 还還 东東 开開 关關 长長 见見",
        "现現 进進 从從 当當 经經 实實 与與 应應 体體 买買 卖賣 问問 题題 让讓 认認 识識 谢謝 钱錢",
        "气氣 温溫 价價 业業 务務 产產 办辦 写寫 试試 读讀 书書 师師 员員 维維 压壓 态態 网網 标標",
        "质質 称稱 尔爾 随隨 谁誰 该該 边邊 达達 计計 记記 设設 调調 观觀 乐樂 难難 离離",
    )
)
_S2T: dict[str, str] = {pair[0]: pair[1] for pair in _PAIRS.split()}
_TABLE = str.maketrans(_S2T)
#: The Simplified characters of the pairs (none is ever written in Traditional text).
SIMPLIFIED = frozenset(_S2T)
_TRADITIONAL = frozenset(_S2T.values())
#: Math words with 于, a character both scripts write (so not in the pairs).
_WORDS = (("等于", "等於"), ("大于", "大於"), ("小于", "小於"))


def is_traditional(text: str) -> bool:
    """True when ``text`` holds more Traditional-only than Simplified-only characters (of the pairs
    above); text with neither (有2人) counts as Simplified."""
    trad = simp = 0
    for ch in text:
        if ch in _TRADITIONAL:
            trad += 1
        elif ch in SIMPLIFIED:
            simp += 1
    return trad > simp


def to_traditional(text: str) -> str:
    """The Traditional form of the characters in the pairs above; others are kept: 两点 → 兩點."""
    out = text.translate(_TABLE)
    if "于" in out:
        for simp, trad in _WORDS:
            out = out.replace(simp, trad)
    return out


def with_traditional(words: tuple[str, ...]) -> tuple[str, ...]:
    """``words`` plus their Traditional forms (keyword tables that must match either script)."""
    extra = tuple(t for t in (to_traditional(w) for w in words) if t not in words)
    return words + tuple(dict.fromkeys(extra))
