"""``ttsgate bench``: a load generator for speech endpoints (ttsgate, any OpenAI-compatible server,
the piper http server), with per-request audio checks, server resource sampling and a report.

Modules: ``stats`` (records, percentiles, summaries, JSON; pure), ``load`` (targets, one measured
request, closed/open/sequential loops), ``probe`` (server process sampling and start-up, host facts,
progress), ``report`` (markdown, PNG plots), ``inproc`` (engine-level measurements for the scripts in
``benchmarks/``), ``cli`` (the ``bench`` subcommand). The ``stream`` mode: ``stream`` (one measured
stream, the simulated player, distinct paragraphs), ``peers`` (piper's http server's WAV, the Wyoming
client), ``capacity`` (a level's figures, the capacity search, the run), ``stream_report``.
"""

from ttsgate.bench.stats import BenchRun, Phase, RequestResult, Summary, load_run, percentile, summarize

__all__ = ["BenchRun", "Phase", "RequestResult", "Summary", "load_run", "percentile", "summarize"]
