"""Constant tables for the Chinese rules: units, currencies, measure words, ID keywords."""

from __future__ import annotations

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
    "TB": "TB",
    "GB": "GB",
    "MB": "MB",
    "KB": "KB",
    "kb": "KB",
    "Mbps": "兆比特每秒",
    "dB": "分贝",
    "mmHg": "毫米汞柱",
    "kcal": "千卡",
    "cal": "卡",
    "亩": "亩",
}

#: "X/Y" speed units, read 每Y X as WeTextProcessing does (10km/h → 每小时十公里).
PER_UNITS: dict[str, tuple[str, str]] = {
    "km/h": ("小时", "公里"),
    "m/s": ("秒", "米"),
    "km/s": ("秒", "公里"),
}

#: Units after which a lone 2 is not 两 (temperatures, angles, bare letters).
UNITS_NO_LIANG = frozenset({"℃", "°C", "℉", "°F", "°"})

#: Currency symbol or code before the amount → spoken name after it.
CURRENCY_PREFIX: dict[str, str] = {
    "US$": "美元",
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

#: Measure words (and multipliers) before which 2 is read 两.
MEASURE_WORDS = (
    "个只本条张件位次天年岁辆台部家份杯碗瓶双对场门所项斤倍层页块元角毛架颗片根棵篇首句间座盒袋包顿遍趟"
    "声步周点种样名把支枝匹头口群批套组节段群辈代季成户箱桶罐滴粒块艘架栋幢轮届圈下回笔"
    "百千万亿"
)
MEASURE_MULTI = (
    "小时",
    "分钟",
    "秒钟",
    "星期",
    "个月",
    "公里",
    "公斤",
    "千米",
    "千克",
    "毫米",
    "厘米",
    "平方",
    "立方",
)

#: Words after which a digit string is an identifier read digit by digit.
ID_KEYWORDS = (
    "电话号码",
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

#: Words before "N:M" / "N-M" that make it a score, not a time or range.
SCORE_KEYWORDS = (
    "比分",
    "战成",
    "打成",
    "以",
    "爆冷",
    "大比分",
    "总比分",
    "比赛",
    "逆转",
    "击败",
    "战胜",
    "负于",
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
    }
)
