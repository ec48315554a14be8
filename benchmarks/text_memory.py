"""RSS after each start-up step of the edge server's text side, in one process (Linux).

    .venv/bin/python benchmarks/text_memory.py

Imports first (what ``ttsgate serve`` loads before any engine), then the text dictionaries in the
order the server builds them: jieba's words (``words.warm``), wetext's graphs (``TextNormalizer``),
jieba's word classes (``zh_context``), pypinyin (``MandarinFrontend``), one Mandarin sentence
through each, and last ``malloc.trim`` (what the server does once every engine is warm).
Figures: benchmarks/edge.md, "Text and server memory (edge)".
"""

from __future__ import annotations

import importlib


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def main() -> None:
    last = rss_mb()

    def step(name: str) -> None:
        nonlocal last
        now = rss_mb()
        print(f"{name:36s} {now:7.1f} MB  (+{now - last:.1f})", flush=True)
        last = now

    step("python")
    for module in ("numpy", "fastapi", "av", "onnxruntime", "ttsgate.server", "ttsgate.cli"):
        importlib.import_module(module)
        step(f"import {module}")
    from ttsgate import malloc
    from ttsgate.engines import zh_context
    from ttsgate.text import TextNormalizer, words

    words.warm()
    step("jieba words (words.warm)")
    normalizer = TextNormalizer()
    step("wetext graphs (TextNormalizer)")
    zh_context.warm()
    step("jieba word classes (zh_context)")
    from ttsgate.engines.zh_frontend import MandarinFrontend  # imports pypinyin: its dictionaries

    frontend = MandarinFrontend.with_files()
    step("pypinyin (MandarinFrontend)")
    text = normalizer.normalize("今天是2024年3月5日，气温25度，我们去公园散步吧。", "zh")
    frontend.to_ids(text)
    words.split_at_words(text, 8)
    step("one sentence through each")
    malloc.trim()
    step("malloc.trim")


if __name__ == "__main__":
    main()
