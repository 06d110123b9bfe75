"""docker-compose.yml: valid against the Compose Specification's JSON schema
(vendored in docker/, see docker/README.md), and everything it names exists
in the project. No Docker engine runs here, so nothing is started."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from jsonschema import Draft201909Validator, ValidationError

from app.core.config import Settings
from tests.servers import ROOT

COMPOSE = ROOT / "docker-compose.yml"
SCHEMA = json.loads((ROOT / "docker" / "compose-spec.json").read_text())
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")
# Environment variables that uvicorn reads itself (not gateway settings):
# none any more; forwarded headers are the gateway's TRUSTED_PROXIES.
UVICORN_VARIABLES: set[str] = set()
# Services that run once and exit (no health check).
ONE_SHOT = {"rasa-token"}


def load() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def interpolate(value):
    """What Compose makes of the file when no variable is set."""
    if isinstance(value, str):
        return VARIABLE.sub(lambda m: m.group(3) or "", value)
    if isinstance(value, dict):
        return {k: interpolate(v) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v) for v in value]
    return value


def validate(document: dict) -> None:
    # The schema says draft 2019-09 (its "$schema" is written with http and "#").
    Draft201909Validator.check_schema(SCHEMA)
    Draft201909Validator(SCHEMA).validate(document)


@pytest.fixture(scope="module")
def compose() -> dict:
    return load()


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return interpolate(compose)["services"]


def test_the_file_is_valid_against_the_compose_spec_schema(compose):
    validate(compose)
    validate(interpolate(compose))


@pytest.mark.parametrize(
    "break_it",
    [
        lambda d: d["services"]["rasa"].update(healthchek={"test": ["CMD", "true"]}),
        lambda d: d["services"]["gateway"].update(ports=[{"target": "eighty"}]),
        lambda d: d["services"]["redis"]["healthcheck"].update(retries="many"),
        lambda d: d.update(servces={}),
    ],
)
def test_the_schema_does_catch_mistakes(compose, break_it):
    broken = json.loads(json.dumps(compose))
    break_it(broken)
    with pytest.raises(ValidationError):
        validate(broken)


def test_every_variable_has_a_default_and_no_secret_is_written(services):
    text = COMPOSE.read_text()
    for name, op, default in VARIABLE.findall(text):
        assert op in {":-", "-"}, f"${{{name}}} has no default: `docker compose up` would need it"
        if re.search("PASSWORD|SECRET|TOKEN", name):
            assert default == "", name
    for service in services.values():
        for key, value in (service.get("environment") or {}).items():
            if re.search("PASSWORD|SECRET|TOKEN", key) and not key.endswith("_FILE"):
                assert value == "", key
            assert not re.search(r"//[^/@]*:[^/@]+@", str(value)), key  # no password in a URL


def test_the_services_and_their_health_checks(services):
    assert set(services) == {"redis", "postgres", "rasa", "actions", "gateway", "rasa-token"}
    for name, service in services.items():
        if name not in ONE_SHOT:
            assert service["healthcheck"]["test"][0] == "CMD", name
    assert services["redis"]["image"].split(":")[0] == "redis"  # the official image


def test_only_the_gateway_is_reachable_from_outside(compose, services):
    networks = compose["networks"]
    assert networks["internal"]["internal"] is True
    assert not networks["public"].get("internal")
    for name in ("redis", "postgres", "actions", "rasa"):
        assert services[name]["networks"] == ["internal"], name
        assert "ports" not in services[name], name
    assert services["rasa-token"]["network_mode"] == "none"
    assert set(services["gateway"]["networks"]) == {"internal", "public"}
    assert [p.split(":")[-1] for p in services["gateway"]["ports"]] == ["8000"]


def test_rasas_api_needs_the_token_the_gateway_sends(services):
    rasa, gateway = services["rasa"], services["gateway"]
    # rasa_serve.py adds --auth-token from RASA_TOKEN_FILE, refusing to start without it.
    launcher = rasa["command"][1]
    assert rasa["command"][0] == "python" and launcher == "/app/rasa_serve.py"
    assert "--enable-api" in rasa["command"]
    _, text = _dockerfile(rasa)
    assert any(op == "COPY" and args.split()[-1] == launcher for op, args in _instructions(text))
    token_file = rasa["environment"]["RASA_TOKEN_FILE"]
    assert gateway["environment"]["RASA_TOKEN_FILE"] == token_file
    folder = token_file.rsplit("/", 1)[0]
    for service in (rasa, gateway, services["rasa-token"]):
        assert any(v.split(":")[1] == folder for v in service["volumes"])
    assert f"> {token_file}" in services["rasa-token"]["command"][-1]
    for name in ("rasa", "gateway"):
        assert services[name]["depends_on"]["rasa-token"] == {
            "condition": "service_completed_successfully"
        }


def test_rasa_can_be_scaled(services):
    rasa = services["rasa"]
    assert "container_name" not in rasa
    assert "ports" not in rasa  # no host port: several containers
    assert "5005" in rasa["expose"]
    # The gateway reaches it by service name.
    assert "//rasa:5005" in services["gateway"]["environment"]["RASA_URLS"]


def _dockerfile(service: dict) -> tuple[Path, str]:
    build = service["build"]
    context = (ROOT / build["context"]).resolve()
    dockerfile = context / build["dockerfile"]
    assert context.is_dir(), context
    assert dockerfile.is_file(), dockerfile
    return context, dockerfile.read_text()


def _instructions(text: str) -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", text)
    lines = [ln.strip() for ln in joined.splitlines() if ln.strip() and not ln.startswith("#")]
    return [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1]) for ln in lines]


@pytest.mark.parametrize("name", ["rasa", "actions", "gateway"])
def test_dockerfiles_and_what_they_copy_exist(services, name):
    context, text = _dockerfile(services[name])
    copied = [args for op, args in _instructions(text) if op == "COPY"]
    assert copied
    for args in copied:
        *sources, _target = shlex.split(args)
        for source in sources:
            assert (context / source).exists(), f"{name}: COPY {source} is not in the project"
    ignored = (ROOT / ".dockerignore").read_text().split()
    for args in copied:
        for source in shlex.split(args)[:-1]:
            assert source.rstrip("/") not in ignored


def _exposed(text: str) -> set[str]:
    return {p for op, args in _instructions(text) if op == "EXPOSE" for p in args.split()}


def _port_in(command: list[str]) -> str:
    return command[command.index("--port") + 1]


def test_ports_match_what_the_servers_listen_on(services):
    for name in ("rasa", "actions"):
        _, text = _dockerfile(services[name])
        port = _port_in(services[name]["command"])
        assert port in _exposed(text)
        assert services[name]["expose"] == [port]
    _, gateway_text = _dockerfile(services["gateway"])
    cmd = next(args for op, args in _instructions(gateway_text) if op == "CMD")
    gateway_port = _port_in(json.loads(cmd))
    assert gateway_port in _exposed(gateway_text)
    host, container = services["gateway"]["ports"][0].split(":")
    assert container == gateway_port and host == "8000"
    env = services["gateway"]["environment"]
    assert env["ACTIONS_URL"].endswith(f":{_port_in(services['actions']['command'])}")
    assert env["RASA_URLS"].endswith(f":{_port_in(services['rasa']['command'])}")
    assert services["rasa"]["environment"]["ACTION_ENDPOINT_URL"] == (
        f"http://actions:{_port_in(services['actions']['command'])}/webhook"
    )


def test_the_gateways_variables_are_its_settings(services):
    env = services["gateway"]["environment"]
    unknown = set(env) - set(Settings.model_fields) - UVICORN_VARIABLES
    assert unknown == set()
    Settings(**{k: v for k, v in env.items() if k in Settings.model_fields})  # valid values


def test_rasa_gets_every_variable_of_its_endpoint_file(services):
    command = services["rasa"]["command"]
    endpoints = ROOT / "chatbot" / command[command.index("--endpoints") + 1]
    credentials = ROOT / "chatbot" / command[command.index("--credentials") + 1]
    assert endpoints.is_file() and credentials.is_file()
    needed = set(re.findall(r"\$\{(\w+)\}", endpoints.read_text()))
    assert needed and needed <= set(services["rasa"]["environment"])
    assert services["rasa"]["environment"]["RASA_REDIS_HOST"] == "redis"
    assert services["rasa"]["environment"]["RASA_REDIS_KEY_PREFIX"].isalnum()
    config = yaml.safe_load(endpoints.read_text())
    assert config["lock_store"]["type"] == "redis"
    # The bounded Redis tracker store (chatbot/stores/), in the image with chatbot/
    # and imported from Rasa's working directory there (/app/chatbot).
    store = config["tracker_store"]["type"]
    assert store == "stores.tracker_store.BoundedRedisTrackerStore"
    assert (ROOT / "chatbot" / "stores" / "tracker_store.py").is_file()
    _, text = _dockerfile(services["rasa"])
    assert "chatbot/ chatbot/" in text and "WORKDIR /app/chatbot" in text
    assert isinstance(config["tracker_store"]["record_exp"], int)


def test_the_model_is_where_rasa_is_told_to_find_it(services):
    _, text = _dockerfile(services["rasa"])
    train = next(args for op, args in _instructions(text) if op == "RUN" and "rasa train" in args)
    out = re.search(r"--out (\S+)", train).group(1)
    name = re.search(r"--fixed-model-name (\S+)", train).group(1)
    command = services["rasa"]["command"]
    assert command[command.index("--model") + 1] == f"{out}/{name}.tar.gz"
    workdir = [args for op, args in _instructions(text) if op == "WORKDIR"][-1]
    assert workdir.endswith("/chatbot")  # where `actions` and the endpoint files are


def test_the_services_start_in_order(services):
    assert services["rasa"]["depends_on"] == {
        "rasa-token": {"condition": "service_completed_successfully"},
        "redis": {"condition": "service_healthy"},
        "actions": {"condition": "service_healthy"},
    }
    assert services["gateway"]["depends_on"]["rasa"] == {"condition": "service_healthy"}


def test_the_records_are_in_postgres_on_a_named_volume(compose, services):
    postgres, gateway = services["postgres"], services["gateway"]
    assert postgres["image"].split(":")[0] == "postgres"  # the official image
    [volume] = postgres["volumes"]
    name, path = volume.split(":")[:2]
    assert path == "/var/lib/postgresql/data" and name in compose["volumes"]
    assert "pg_isready" in postgres["healthcheck"]["test"]
    url = gateway["environment"]["DATABASE_URL"]
    found = re.search(r":-([^}]*)}", url)  # the default, when not already resolved
    parts = urlsplit(found.group(1) if found else url)
    assert parts.scheme == "postgresql" and parts.hostname == "postgres"
    assert parts.path.lstrip("/") == postgres["environment"]["POSTGRES_DB"]
    assert parts.username == postgres["environment"]["POSTGRES_USER"]
    assert gateway["depends_on"]["postgres"] == {"condition": "service_healthy"}
    # The gateway's image has the driver for the URL, and the migrations.
    assert "psycopg" in (ROOT / "requirements" / "gateway.in").read_text()
    assert (ROOT / "staffops" / "records" / "migrations" / "versions").is_dir()
