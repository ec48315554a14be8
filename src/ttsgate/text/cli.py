"""``ttsgate normalize``: one text per input line → one normalised line per output line."""

from __future__ import annotations

import sys
from typing import TextIO

from ttsgate.exceptions import TTSGateError
from ttsgate.text.normalizer import TextNormalizer, parse_lang


def run_normalize(lang: str, stdin: TextIO, stdout: TextIO) -> int:
    """Normalise each line of ``stdin`` in ``lang`` and write it to ``stdout``, line for line.

    Exactly one output line per input line (an empty line gives an empty line); returns 0, or 2
    with a message on stderr for an unsupported language.
    """
    try:
        code = parse_lang(lang)
    except TTSGateError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    normalizer = TextNormalizer()
    for line in stdin:
        text = line.rstrip("\n").rstrip("\r")
        spoken = normalizer.normalize(text, code).replace("\r", " ").replace("\n", " ")
        stdout.write(spoken + "\n")
    stdout.flush()
    return 0
