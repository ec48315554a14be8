"""Constant tables for the Chinese rules: units, currencies, ID keywords (measure words: measures_zh)."""

from __future__ import annotations

from ttsgate.text.latin_zh import LATIN_PER_UNITS, LATIN_UNITS
from ttsgate.text.script_zh import with_traditional

#: Unit symbol → spoken Chinese. Longest symbols first when building the regex.
UNITS: dict[str, str] = {
    "km²": "平方公里",
    "m²": "平方米",
    "cm²": "平方厘米",
    "㎡": "平方米",
    "m³": "立方米",
    "km": "公里",
    "cm": "厘米",
    "mm": "毫米",
    "nm": "纳米",
    "μm": "微米",
    "m": "米",
    "kg": "千克",
    "mg": "毫克",
    "g": "克",
    "t": "吨",
    "ml": "毫升",
    "mL": "毫升",
    "L": "升",
    "l": "升",
    "℃": "摄氏度",
    "°C": "摄氏度",
    "℉": "华氏度",
    "°F": "华氏度",
    "°": "度",
    "kWh": "千瓦时",
    "kW": "千瓦",
    "MW": "兆瓦",
    "W": "瓦",
    "kV": "千伏",
    "V": "伏",
    "mAh": "毫安时",
    "mA": "毫安",
    "GHz": "吉赫兹",
    "MHz": "兆赫兹",
    "kHz": "千赫兹",
    "Hz": "赫兹",
    "ms": "毫秒",
    "min": "分钟",
    "h": "小时",
    "s": "秒",
    "dB": "分贝",
    "mmHg": "毫米汞柱",
    "kcal": "千卡",
    "cal": "卡",
    "亩": "亩",
    **LATIN_UNITS,  # data sizes (MB → 兆, GB → G), rates, pressure… (latin_zh.py)
}

#: "X/Y" speed units, read 每Y X as WeTextProcessing does (10km/h → 每小时十公里).
PER_UNITS: dict[str, tuple[str, str]] = {
    "km/h": ("小时", "公里"),
    "m/s": ("秒", "米"),
    "km/s": ("秒", "公里"),
    **LATIN_PER_UNITS,
}

#: Units after which a lone 2 is not 两 (temperatures, angles, bare letters).
UNITS_NO_LIANG = frozenset({"℃", "°C", "℉", "°F", "°"})

#: Currency symbol or code before the amount → spoken name after it.
CURRENCY_PREFIX: dict[str, str] = {
    "US$": "美元",
    "NT$": "新台币",
    "NTD": "新台币",
    "TWD": "新台币",
    "S$": "新加坡元",
    "SGD": "新加坡元",
    "NZ$": "新西兰元",
    "CHF": "瑞士法郎",
    "KRW": "韩元",
    "THB": "泰铢",
    "฿": "泰铢",
    "₽": "卢布",
    "RUB": "卢布",
    "A$": "澳元",
    "HK$": "港元",
    "C$": "加元",
    "$": "美元",
    "¥": "元",
    "￥": "元",
    "€": "欧元",
    "£": "英镑",
    "₩": "韩元",
    "₹": "卢比",
    "RMB": "元",
    "CNY": "元",
    "USD": "美元",
    "HKD": "港元",
    "EUR": "欧元",
    "GBP": "英镑",
    "JPY": "日元",
    "AUD": "澳元",
}

#: Words after which a digit string is an identifier read digit by digit.
ID_KEYWORDS: tuple[str, ...] = (
    "电话号码",
    "端口号",
    "端口",
    "型号",
    "电话",
    "手机号码",
    "手机号",
    "手机",
    "号码",
    "热线",
    "座机",
    "分机号",
    "分机",
    "区号",
    "验证码",
    "校验码",
    "动态码",
    "取件码",
    "取餐号",
    "订单号",
    "订单编号",
    "运单号",
    "快递单号",
    "单号",
    "QQ号",
    "QQ",
    "qq号",
    "qq",
    "微信号",
    "房间号",
    "房号",
    "门牌号",
    "邮编",
    "邮政编码",
    "编号",
    "工号",
    "学号",
    "账号",
    "帐号",
    "卡号",
    "尾号",
    "车次",
    "航班号",
    "航班",
    "密码",
    "身份证号码",
    "身份证号",
    "身份证",
    "车牌号",
    "序列号",
    "批次号",
    "股票代码",
    "代码",
    "拨打",
    "致电",
    "呼叫",
    "请拨",
)
ID_KEYWORDS = with_traditional(ID_KEYWORDS)  # 電話, 驗證碼, 訂單號 …

#: Score context (ranges_zh): words up to 8 characters before "N:M" / "N-M" (比分定格在78:96) …
SCORE_CONTEXT = with_traditional(("比分", "大比分", "总比分", "战成", "打成", "比数"))
#: … words right before it (以3-2击败, 主队3-0) …
SCORE_LEAD = with_traditional(
    ("以", "队", "爆冷", "逆转", "击败", "战胜", "负于", "比赛", "终场", "半场", "全场")
)
#: … or right after it (3-0取胜, 1:1平), unless the word after is one of SCORE_AFTER_NOT (3-5平米).
SCORE_AFTER = with_traditional(
    (
        "取胜", "获胜", "胜出", "击败", "战胜", "力克", "险胜", "大胜", "完胜", "横扫", "零封", "落败",
        "告负", "惜败", "负于", "输给", "战平", "逆转", "领先", "落后", "绝杀", "告捷",
        "胜", "负", "平", "赢", "输",
    )
)  # fmt: skip
SCORE_AFTER_NOT = with_traditional(
    ("平方", "平米", "平均", "平台", "平板", "负责", "负担", "负载", "负荷", "输入", "输出", "输送", "输液")
)

#: Math operators inside an expression.
MATH_OPS: dict[str, str] = {
    "+": "加",
    "-": "减",
    "×": "乘",
    "*": "乘",
    "÷": "除以",
    "/": "除以",
    "=": "等于",
    "≈": "约等于",
    "≠": "不等于",
    "≥": "大于等于",
    "≤": "小于等于",
    ">": "大于",
    "<": "小于",
}

#: Characters folded before the rules (full-width digits, letters and symbols; typographic minus).
FOLD = str.maketrans(
    {
        **{chr(0xFF10 + i): str(i) for i in range(10)},
        **{chr(0xFF21 + i): chr(0x41 + i) for i in range(26)},
        **{chr(0xFF41 + i): chr(0x61 + i) for i in range(26)},
        "％": "%",
        "～": "~",
        "＋": "+",
        "－": "-",
        "−": "-",
        "＝": "=",
        "＄": "$",
        "﹪": "%",
        "〜": "~",
    }
)

#: Chinese unit words (besides MEASURE_WORDS / MEASURE_MULTI) that make a number a quantity: its
#: decimal's trailing zeros are not read (3.50米 → 三点五米) and 2019.12米 is no date.
QUANTITY_WORDS = with_traditional(
    (
        "米", "克", "吨", "升", "里", "度", "秒", "分", "亩", "公顷", "英寸", "英尺", "英里", "寸", "尺",
        "磅", "盎司", "平米", "元", "块", "圆", "美元", "欧元", "英镑", "日元", "港元", "澳元", "加元",
        "韩元", "卢比", "卢布", "法郎", "人民币", "美金", "港币", "摄氏度", "华氏度", "厘米", "毫米",
        "千瓦", "瓦",
    )
)  # fmt: skip

#: Words after "2023-24" / "2023-2024" that make it a span of years (二零二三到二四赛季), not 2023年24月.
SEASON_WORDS = with_traditional(("赛季", "学年", "财年", "年度", "球季", "季度", "届"))

#: Words that may open the second time of a range (9:00-次日2:00, 上午9:00-下午5:30).
TIME_OF_DAY = with_traditional(
    ("上午", "下午", "中午", "晚上", "凌晨", "早上", "早晨", "傍晚", "夜里", "夜间", "次日", "翌日", "明天")
)

#: Country calling codes read digit by digit after a plus even without a phone number after them.
COUNTRY_CODES = ("86", "852", "853", "886")
