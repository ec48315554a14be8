"""Schemathesis against a real server (sine voices, a stand-in Ollama): every answer matches /openapi.json.

For each operation of the document, schema-valid and schema-invalid requests (bounded, derandomized:
the same cases every run) are sent and each answer is checked for a documented status code, a
documented content type, a body that validates against the documented schema, and no 5xx. Admission
is off so the checks see no 503 from load.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.ollama_fixture import serve_ollama
from tests.support.servers import serve_app
from tests.support.tables import sine_table
from ttsgate.config import Settings
from ttsgate.server import create_app

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 8  # per operation and generation mode
BUDGET_S = 50.0


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with serve_ollama({"*": "Hello there. 你好。"}) as llm:
        settings = Settings(
            cache="off", max_wait_ms=2.0, realtime_admission=False, llm_url=llm.url, request_timeout_s=20
        )
        with serve_app(create_app(settings, table=sine_table())) as url:
            yield url


def _run(operation: Any, mode: GenerationMode, url: str) -> int:
    sent = 0

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        nonlocal sent
        sent += 1
        case.call_and_validate(base_url=url, checks=CHECKS, timeout=30)

    with contextlib.suppress(Unsatisfiable):  # no invalid request exists (no parameters, no body)
        check()
    return sent


def test_every_answer_conforms_to_the_document(server: str) -> None:
    schema = schemathesis.openapi.from_url(f"{server}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    labels = {op.label for op in operations}
    assert {"POST /v1/audio/speech", "POST /v1/chat/speech", "GET /tts", "POST /api/chatts"} <= labels
    started = time.monotonic()
    sent = 0
    for op in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            sent += _run(op, mode, server)
    elapsed = time.monotonic() - started
    assert sent >= len(operations) * EXAMPLES  # the cases really ran
    assert elapsed < BUDGET_S, f"{sent} cases took {elapsed:.1f} s"
