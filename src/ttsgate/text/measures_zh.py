"""Mandarin measure words (classifiers) and units: the words before which a speaker says 两, not 二.

A 2 that counts something is 两 (两个, 两行代码, 两米, 两秒); a 2 that names or orders something is
二 (第二, 二月, 二号, 二年级, 二两, 二等奖). The tables below hold what can be counted, grouped as a
grammar of Mandarin classifiers groups them (Chao 1968; the 《现代汉语量词用法词典》): individual,
collective, container, verbal (how many times), time, standard units of measure, money, and
multipliers. ``MEASURE_RE`` matches one of them right after a number; ``NOT_MEASURE`` are the
words that begin with a measure character but name or order (二年级, 二等奖, 二号线).

A data size written with its letter alone (2T硬盘, 2G内存) is a quantity only before a storage
word: 2G网络 is a generation, read 二G.
"""

from __future__ import annotations

import re

from ttsgate.text.script_zh import with_traditional

#: Individual classifiers: one of a thing (个人, 本书, 行代码, 道题, 封信).
INDIVIDUAL = (
    "个只本条张件位名口头匹支枝根棵株朵颗粒片块座栋幢间所家户辆台部架艘门扇面顶把柄枚封首篇章"
    "段节句行列道题招幅笔项款种类样则桩宗起例剂瓣尊具盏丛截处份"
)
#: Collective classifiers: a group of things (双, 对, 副, 串, 捆, 束, 伙, 帮, 股, 缕, 撮, 些).
COLLECTIVE = "双对副套组群批伙帮串捆束排堆摞叠沓缕撮股些码辈代"
#: Containers used as measures (杯水, 盘菜, 勺糖, 桌菜).
CONTAINER = "杯碗瓶盘碟勺盒袋包箱桶罐壶锅盆桌筐篮缸滴"
#: Verbal classifiers: how many times or blows (次, 遍, 趟, 拳, 脚, 针, 局, 站, 集, 课).
VERBAL = "次遍趟回下顿场阵番拳脚针眼声步圈局轮届期集站课餐刀枪通遭"
#: Time units (天, 年, 秒; multi-character ones in ``MEASURE_MULTI``).
TIME = "天年岁周秒季点"
#: Standard and traditional units of measure (米, 克, 吨, 升, 里, 斤, 尺 …).
MEASURE_UNITS = "米克吨升里斤亩尺寸丈"
#: Money (元, 块, 角, 毛) and multipliers (倍, 成, 折, 百, 千, 万, 亿).
MONEY = "元块角毛"
MULTIPLIERS = "倍成折百千万亿"
#: 人 counts people (两人, 两人间).
PEOPLE = "人"

#: Traditional forms of the characters above that differ (兩個, 兩條, 兩題 …).
TRADITIONAL = "個隻條張輛臺項處間塊場雙對門頁層顆頓聲種樣組節輩屆輪筆歲棟頭戶萬億盤題課針夥幫縷碼腳噸壺鍋籃"

#: Every single-character measure word, as one string (a regex character class).
MEASURE_WORDS = "".join(
    dict.fromkeys(
        INDIVIDUAL + COLLECTIVE + CONTAINER + VERBAL + TIME + MEASURE_UNITS + MONEY + MULTIPLIERS
        + PEOPLE + "层页" + TRADITIONAL
    )
)  # fmt: skip

#: Multi-character measure words and units (两小时, 两公里, 两毫升, 两平米).
MEASURE_MULTI = with_traditional(
    (
        "小时", "分钟", "秒钟", "星期", "礼拜", "个月", "周年", "年头",
        "公里", "千米", "厘米", "毫米", "分米", "微米", "纳米", "海里", "英里", "英尺", "英寸",
        "公斤", "千克", "毫克", "公克", "盎司", "毫升", "公升", "加仑", "公顷", "平米", "平方", "立方",
        "方面",
    )
)  # fmt: skip

#: Words that start with a measure character but name or order: 二年级, 二等奖, 二号线, 二把手.
NOT_MEASURE = with_traditional(("年级", "等奖", "等座", "把手", "次元"))

#: Storage words after which a bare data-size letter is a quantity (2T硬盘 → 两T, 2G内存 → 两G).
STORAGE_WORDS = with_traditional(
    (
        "硬盘",
        "内存",
        "运存",
        "存储",
        "显存",
        "流量",
        "空间",
        "固态",
        "容量",
        "网盘",
        "云盘",
        "的内存",
        "的流量",
    )
)


def _alt(words: tuple[str, ...]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


#: A measure word (or a data size before a storage word) right where it is matched.
MEASURE_RE = re.compile(
    r"(?!" + _alt(NOT_MEASURE) + r")(?:" + _alt(MEASURE_MULTI) + r"|[" + MEASURE_WORDS + r"]"
    r"|\s?[PTGMK]B?\s?(?=" + _alt(STORAGE_WORDS) + r"))"
)  # fmt: skip
