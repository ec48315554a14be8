"""``ttsgate serve`` with ``src/ttsgate/text/segment.py`` as it was at a git revision, for
before/after runs of `ttsgate bench` under the same machine conditions.

Usage: ``python benchmarks/serve_segmenter_rev.py REV [serve arguments...]``
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from llm_first_audio import use_segmenter_from


def main() -> int:
    rev, serve_args = sys.argv[1], sys.argv[2:]
    use_segmenter_from(rev)
    from ttsgate.cli import main as cli_main

    return cli_main(["serve", *serve_args])


if __name__ == "__main__":
    raise SystemExit(main())
