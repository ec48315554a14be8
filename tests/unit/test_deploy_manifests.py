"""deploy/compose.yaml and deploy/k8s/ checked against their real schemas and against each other.

No Docker engine or Kubernetes cluster runs here, so the files are validated: Compose against the
Compose Specification's JSON schema (tests/data/compose-spec.json, compose-spec/compose-spec at
170098b, Apache-2.0), Kubernetes objects with kubernetes-validate's strict schemas, Prometheus
configs with promtool; then the settings that must agree across files (ports, probes, grace periods,
selectors, the voice table) are compared.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
K8S_VERSIONS = ("1.29.0", "1.33.0")  # oldest supported with preStop sleep (1.29+) and a recent one


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((DEPLOY / "compose.yaml").read_text()))


def k8s_objects() -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    return [
        doc
        for name in kustomization["resources"]
        for doc in yaml.safe_load_all((K8S / name).read_text())
        if doc is not None
    ]


def find(kind: str, name: str) -> dict[str, Any]:
    matches = [o for o in k8s_objects() if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}"
    return matches[0]


def seconds(duration: str) -> float:
    m = re.fullmatch(r"(\d+)s", duration)
    assert m, duration
    return float(m.group(1))


def test_compose_file_matches_the_compose_specification() -> None:
    schema = json.loads((ROOT / "tests" / "data" / "compose-spec.json").read_text())
    jsonschema.Draft7Validator(schema).validate(compose())


def test_compose_schema_check_catches_mistakes() -> None:
    schema = json.loads((ROOT / "tests" / "data" / "compose-spec.json").read_text())
    broken = compose()
    broken["services"]["ttsgate"]["healthcheck"]["intervall"] = "10s"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(schema).validate(broken)


def test_compose_services_have_health_checks_and_mounted_files_exist() -> None:
    services = compose()["services"]
    assert set(services) >= {"ttsgate", "redis", "nginx", "ollama", "prometheus", "grafana"}
    for name, svc in services.items():
        assert "healthcheck" in svc, name
        for volume in svc.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name}: {source}"
    tts = services["ttsgate"]
    assert tts["environment"]["TTSGATE_CACHE"] == "redis://redis:6379/0"
    grace = float(tts["environment"]["TTSGATE_SHUTDOWN_GRACE_S"])
    assert seconds(tts["stop_grace_period"]) > grace, "Docker must not SIGKILL a draining replica"


def test_compose_nginx_renders_the_tested_proxy_config_for_the_service() -> None:
    command = compose()["services"]["nginx"]["command"][-1]
    edits = re.findall(r"-e '([^']*)'", command)
    conf = (DEPLOY / "nginx" / "ttsgate.conf").read_text()
    for edit in edits:
        if edit.startswith("/"):
            pattern = edit.strip("/").removesuffix("/d")
            conf = "\n".join(line for line in conf.splitlines() if not re.search(pattern, line))
        else:
            _, old, new, _ = edit.split("/")
            conf = re.sub(old, new, conf)
    servers = re.findall(r"(?m)^\s*server ([\w.:-]+)[ ;]", conf)
    assert servers == ["ttsgate:8000"]


@pytest.mark.skipif(
    shutil.which("promtool") is None, reason="promtool not installed (apt-get install prometheus)"
)
@pytest.mark.parametrize("config", ["compose/prometheus.yml", "prometheus/prometheus.yml"])
def test_prometheus_configs_pass_promtool(config: str) -> None:
    done = subprocess.run(
        ["promtool", "check", "config", "--syntax-only", str(DEPLOY / config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_grafana_provisioning_points_at_the_dashboard() -> None:
    grafana = compose()["services"]["grafana"]
    mounts = dict(v.split(":")[:2] for v in grafana["volumes"])
    providers = yaml.safe_load((DEPLOY / "compose" / "grafana" / "dashboards.yaml").read_text())
    folder = providers["providers"][0]["options"]["path"]
    assert any(target.startswith(folder + "/") and target.endswith(".json") for target in mounts.values())
    sources = yaml.safe_load((DEPLOY / "compose" / "grafana" / "datasources.yaml").read_text())
    assert sources["datasources"][0]["url"] == "http://prometheus:9090"


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_kubernetes_objects_are_valid(version: str) -> None:
    objects = k8s_objects()
    kinds = {o["kind"] for o in objects}
    assert kinds >= {"Deployment", "Service", "ConfigMap", "HorizontalPodAutoscaler", "PodDisruptionBudget"}
    for obj in objects:
        kubernetes_validate.validate(obj, version, strict=True)


def test_kubernetes_validation_catches_mistakes() -> None:
    deployment = find("Deployment", "ttsgate")
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["pathh"] = "/x"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSIONS[-1], strict=True)


def test_kubernetes_objects_agree() -> None:
    deployment = find("Deployment", "ttsgate")
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    settings = find("ConfigMap", "ttsgate-settings")["data"]
    grace = float(settings["TTSGATE_SHUTDOWN_GRACE_S"])
    pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pod["terminationGracePeriodSeconds"] > grace + pre_stop
    assert container["ports"][0]["containerPort"] == int(settings["TTSGATE_PORT"])
    assert container["resources"]["requests"]["cpu"] == container["resources"]["limits"]["cpu"]
    for kind in ("Service", "PodDisruptionBudget"):
        obj = find(kind, "ttsgate")
        selector = obj["spec"]["selector"]
        selector = selector.get("matchLabels", selector)
        assert selector.items() <= labels.items(), kind
    hpa = find("HorizontalPodAutoscaler", "ttsgate")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "ttsgate"
    assert hpa["spec"]["minReplicas"] >= 2, "one replica left during a rolling restart drains everything"
    mount = next(m for m in container["volumeMounts"] if m["name"] == "voices")
    assert settings["TTSGATE_VOICES_FILE"] == mount["mountPath"] + "/voices.toml"
    redis = find("Service", "ttsgate-redis")
    assert settings["TTSGATE_CACHE"] == f"redis://ttsgate-redis:{redis['spec']['ports'][0]['port']}/0"


def test_kubernetes_voice_table_is_the_built_in_one() -> None:
    """The ConfigMap is the operator's copy to edit; shipped, it must equal the built-in table."""
    shipped = tomllib.loads(find("ConfigMap", "ttsgate-voices")["data"]["voices.toml"])
    builtin = tomllib.loads((ROOT / "src" / "ttsgate" / "data" / "voices.toml").read_text())
    assert shipped == builtin
