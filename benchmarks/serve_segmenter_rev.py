"""``ttsgate serve`` with ``src/ttsgate/text/segment.py`` as it was at a git revision, for
before/after runs of `ttsgate bench` under the same machine conditions.

Usage: ``python benchmarks/serve_segmenter_rev.py REV [serve arguments...]``
"""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path


def main() -> int:
    rev, serve_args = sys.argv[1], sys.argv[2:]
    root = Path(__file__).resolve().parents[1]
    source = subprocess.run(
        ["git", "show", f"{rev}:src/ttsgate/text/segment.py"],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    old = types.ModuleType("segment_at_rev")
    exec(compile(source, f"segment.py@{rev}", "exec"), old.__dict__)
    import ttsgate.llm.segments
    import ttsgate.text.pipeline
    from ttsgate.cli import main as cli_main

    ttsgate.llm.segments.IncrementalSegmenter = old.IncrementalSegmenter  # type: ignore[attr-defined]
    ttsgate.text.pipeline.split_segments = old.split_segments  # type: ignore[attr-defined]
    return cli_main(["serve", *serve_args])


if __name__ == "__main__":
    raise SystemExit(main())
