"""Long unpunctuated Mandarin through a real server at speeds 1, 0.25, 4: length × speed ÷ length at 1.

TTSGATE_ENGINES=zh-baker TTSGATE_CACHE=off .venv/bin/ttsgate serve --port 8157 &
.venv/bin/python benchmarks/speed_long_zh.py [URL]
"""

from __future__ import annotations

import sys

import httpx

CLAUSE = "我们今天在公园里看到很多人在散步跑步还有一些老人在下棋孩子们在草地上玩耍天气非常好阳光明媚微风轻拂"
TEXT = CLAUSE * 3  # 150 characters, no punctuation


def seconds(url: str, speed: float) -> float:
    body = {"input": TEXT, "voice": "zh_female_baker", "response_format": "pcm", "speed": speed}
    r = httpx.post(f"{url}/v1/audio/speech", json=body, timeout=600)
    r.raise_for_status()
    return len(r.content) / 2 / 24_000  # s16le mono 24 kHz


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8157"
    base = seconds(url, 1.0)
    print(f"speed 1.0: {base:.2f} s")
    for speed in (0.25, 4.0):
        got = seconds(url, speed)
        print(f"speed {speed}: {got:.2f} s, ratio to the ideal {got * speed / base:.3f}")


if __name__ == "__main__":
    main()
