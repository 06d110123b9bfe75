"""Schemathesis against the gateway's own OpenAPI schema (/api/openapi.json).

A real gateway under uvicorn (tests/servers.py), Rasa and the action server
down (closed ports: the chat answers with the center's number, status
`unavailable`), LINE configured with a test secret. For every operation of
the schema, hypothesis generates requests from it, valid (positive) and not
(negative), with a fixed seed (`derandomize`), and schemathesis checks each
answer: never a 5xx, and every status, content type, header and body as the
schema documents them.

One check is left out everywhere: `positive_data_acceptance` (a body valid
by the schema must get a 2xx). The chat refuses, politely and as documented
with 422, messages that are blank to a person (only spaces or control
characters) or too long for MAX_MESSAGE_LENGTH; JSON Schema cannot say
"blank" as Python's `str.strip` means it. And for the health check alone,
`not_a_server_error`: its documented 503 says a part is down (here Rasa,
on purpose), which is what a health check is for. Operations without any
input are not run in negative mode (there is nothing to make invalid).

(Schemathesis' own pytest plugin does not run under pytest 9 yet, so the
operations are enumerated here and each is driven by hypothesis directly.)
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, positive_data_acceptance

from app.core.config import Settings
from app.main import create_app
from tests.conftest import LOGS
from tests.helpers import down_url
from tests.servers import start_gateway, stop

SETTINGS = {
    "LINE_CHANNEL_SECRET": "schemathesis-secret",
    "LINE_CHANNEL_ACCESS_TOKEN": "schemathesis-token",
    "RATE_LIMIT_PER_CLIENT": "100000",
    "RATE_LIMIT_PER_CONVERSATION": "100000",
}
SCHEMA = create_app(Settings(**SETTINGS)).openapi()
OPERATIONS = [(path, method.upper()) for path, item in SCHEMA["paths"].items() for method in item]
RUNS = [
    (path, method, mode)
    for path, method in OPERATIONS
    for mode in GenerationMode
    if mode is GenerationMode.POSITIVE
    or SCHEMA["paths"][path][method.lower()].get("requestBody")
    or SCHEMA["paths"][path][method.lower()].get("parameters")
]


@pytest.fixture(scope="module")
def live_url(redis_url, key_prefix):
    env = {
        **SETTINGS,
        "RASA_URLS": down_url(),
        "ACTIONS_URL": down_url(),
        "LINE_API_URL": down_url(),
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": f"{key_prefix}:schema:",
    }
    proc, url = start_gateway(env, LOGS / "gateway-schema.log")
    yield url
    stop(proc)


def test_the_schema_lists_every_status_each_route_returns():
    statuses = {
        (path, method.upper()): set(operation["responses"])
        for path, item in SCHEMA["paths"].items()
        for method, operation in item.items()
    }
    refused = {"400", "413", "415", "422", "429"}
    assert statuses == {
        ("/api/chat", "POST"): {"200"} | refused,
        ("/api/feedback", "POST"): {"200", "409"} | refused,
        ("/line/webhook", "POST"): {"200", "400", "413", "422", "503"},
        ("/api/history", "GET"): {"200"},
        ("/api/info", "GET"): {"200"},
        ("/health-check/", "GET"): {"200", "503"},
    }


@pytest.mark.parametrize(("path", "method", "mode"), RUNS)
def test_every_operation_answers_as_its_schema_says(live_url, path, method, mode):
    schema = schemathesis.openapi.from_dict(SCHEMA)
    operation = schema[path][method]
    excluded = [positive_data_acceptance]
    if path == "/health-check/":
        excluded.append(not_a_server_error)
    calls = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=40,
        derandomize=True,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def run(case):
        response = case.call_and_validate(base_url=live_url, excluded_checks=excluded, timeout=30)
        calls.append(response.status_code)

    run()
    assert calls
    if path != "/health-check/":
        assert max(calls) < 500
