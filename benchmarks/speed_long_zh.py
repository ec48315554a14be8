"""Long unpunctuated Mandarin through a real server at speeds 1, 0.25, 4: audio length × speed ÷ length at 1.

TTSGATE_ENGINES=zh-baker TTSGATE_CACHE=off .venv/bin/ttsgate serve --port 8157 &
.venv/bin/python benchmarks/speed_long_zh.py
"""

from __future__ import annotations

import httpx, time, subprocess, os, sys

text = (
    "我们今天在公园里看到很多人在散步跑步还有一些老人在下棋孩子们在草地上玩耍天气非常好阳光明媚微风轻拂" * 3
)
url = "http://127.0.0.1:8157"
d = {}
for s in (1.0, 0.25, 4.0):
    r = httpx.post(
        url + "/v1/audio/speech",
        json={"input": text, "voice": "zh_female_baker", "response_format": "pcm", "speed": s},
        timeout=600,
    )
    d[s] = len(r.content) / 2 / 24000
    print(
        s,
        r.status_code,
        round(d[s], 2),
        "s",
        "ratio vs ideal:",
        round(d[s] * s / d[1.0], 3) if 1.0 in d else "",
    )
