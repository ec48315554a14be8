"""API keys never reach a log line; a second SIGTERM during a drain exits without waiting."""

from __future__ import annotations

import io
import logging
import signal

import uvicorn

from ttsgate.logging_setup import configure_logging
from ttsgate.server.drain import Drain, DrainingServer


def test_api_keys_are_masked_in_every_log_line() -> None:
    out = io.StringIO()
    configure_logging(stream=out)
    # As `ttsgate serve` runs uvicorn (log_config=None): its loggers propagate to our root handler
    # (a test server started earlier in this process may have given them handlers of their own).
    uv = logging.getLogger("uvicorn")
    saved = uv.handlers[:], uv.propagate
    uv.handlers[:], uv.propagate = [], True
    try:
        logging.getLogger("uvicorn.error").warning(
            '%s - "WebSocket %s" [accepted]',
            "1.2.3.4",
            "/v1/audio/speech/ws?api_key=sk-secret-0123456789&x=1",
        )
        logging.getLogger("ttsgate.test").warning("upstream said: Authorization: Bearer sk-other-987654321")
    finally:
        configure_logging()
        uv.handlers[:], uv.propagate = saved
    text = out.getvalue()
    assert "sk-secret" not in text
    assert "sk-other" not in text
    assert "api_key=***&x=1" in text
    assert "Bearer ***" in text


def test_first_signal_drains_second_exits_at_once() -> None:
    drain = Drain()
    server = DrainingServer(uvicorn.Config(app=lambda *a: None), drain, grace_s=60)
    drain.in_flight = 2
    server.handle_exit(signal.SIGTERM, None)
    assert drain.draining
    assert not server.should_exit
    assert not drain.finished(60)
    server.handle_exit(signal.SIGTERM, None)
    assert server.should_exit
    assert server.force_exit
