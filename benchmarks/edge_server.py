"""Whole server, cold start to /ready and RSS after warm-up serving one Mandarin and one English request.

    .venv/bin/python benchmarks/edge_server.py default      # today's defaults
    .venv/bin/python benchmarks/edge_server.py edge         # TTSGATE_PROFILE=edge
    .venv/bin/python benchmarks/edge_server.py edge long    # then a long Mandarin paragraph and a long
                                                            # English sentence, RSS after each

One run at a time (the box is shared): starts ``ttsgate serve`` on a free port with a fresh cache
dir, times start → ``/ready`` 200, speaks one Mandarin and one English sentence (WAV, decoded length
checked), then prints /ready's memory figures and the server's RSS (psutil) as one JSON line.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
import time
import wave

import httpx
import psutil
from _common import TTSGATE, free_port

TEXTS = {
    "zh_female_baker": "今天天气很好，我们去公园散步吧。",
    "en_male_joe": "The train to Boston leaves soon.",
}
LONG_TEXTS = {  # about 31 s and 18 s of speech; the English one is a single sentence (one piper run)
    "zh_female_baker": "随着人工智能技术的快速发展，语音合成已经广泛应用于智能客服、有声读物、"
    "导航系统和辅助阅读等领域，"
    "它让机器能够用自然流畅的声音与人交流，并且在嘈杂的环境中依然保持清晰可懂的发音效果，"
    "研究人员还在不断改进模型的韵律和情感表达能力，使合成的语音听起来更加接近真人朗读的水平，"
    "同时也在努力降低计算成本和内存占用，以便在手机和嵌入式设备上流畅运行。",
    "en_male_joe": "When the committee finally met on Thursday afternoon, after weeks of postponed meetings "
    "and endless email threads about budgets, schedules and the future of the old railway station that "
    "everyone in town seemed to have an opinion about, the chairwoman opened by reminding them that the "
    "decision could not be delayed any longer and that the contractors were waiting.",
}


def main() -> int:
    profile = sys.argv[1] if len(sys.argv) > 1 else "edge"
    long = sys.argv[2:3] == ["long"]
    port = free_port()
    with tempfile.TemporaryDirectory() as cache:
        env = {
            **os.environ,
            "TTSGATE_PORT": str(port),
            "TTSGATE_CACHE_DIR": cache,
            "TTSGATE_PROFILE": profile,
        }
        started = time.perf_counter()
        proc = subprocess.Popen(
            [TTSGATE, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        url = f"http://127.0.0.1:{port}"
        try:
            while True:
                try:
                    if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.perf_counter() - started > 300:
                    raise SystemExit("server did not get ready")
                time.sleep(0.1)
            ready_s = time.perf_counter() - started
            seconds = {}
            for voice, text in TEXTS.items():
                body = {"input": text, "voice": voice, "response_format": "wav"}
                r = httpx.post(f"{url}/v1/audio/speech", json=body, timeout=60)
                if r.status_code != 200:
                    raise SystemExit(f"{voice}: {r.status_code} {r.text}")
                with wave.open(io.BytesIO(r.content)) as w:  # streamed: the header's length is open
                    rate, width = w.getframerate(), w.getsampwidth()
                seconds[voice] = round((len(r.content) - 44) / width / rate, 2)
            ready = httpx.get(f"{url}/ready").json()
            rss = psutil.Process(proc.pid).memory_info().rss / 2**20
            out = {"profile": profile, "ready_s": round(ready_s, 1), "rss_mb": round(rss, 1),
                   "engines": ready["engines"], "memory": ready["memory"], "audio_s": seconds}  # fmt: skip
            for voice, text in LONG_TEXTS.items() if long else ():
                body = {"input": text, "voice": voice, "response_format": "pcm"}
                r = httpx.post(f"{url}/v1/audio/speech", json=body, timeout=300)
                if r.status_code != 200:
                    raise SystemExit(f"{voice}: {r.status_code} {r.text}")
                info = psutil.Process(proc.pid).memory_info()
                out[f"rss_mb_after_long_{voice}"] = round(info.rss / 2**20, 1)
            print(json.dumps(out, ensure_ascii=False))
        finally:
            proc.terminate()
            proc.wait(30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
