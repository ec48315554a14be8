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
# The oldest supported (preStop `sleep`: beta and on by default from 1.30) and a recent one.
K8S_VERSIONS = ("1.30.0", "1.33.0")


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((DEPLOY / "compose.yaml").read_text()))


def kustomization() -> dict[str, Any]:
    return dict(yaml.safe_load((K8S / "kustomization.yaml").read_text()))


def generated_configmaps() -> list[dict[str, Any]]:
    """The ConfigMaps of kustomization.yaml's configMapGenerator, rendered as kustomize does
    (without the content-hash suffix kustomize adds to their names and to the references)."""
    out = []
    for gen in kustomization().get("configMapGenerator", []):
        data: dict[str, str] = {}
        for env in gen.get("envs", []):
            for line in (K8S / env).read_text().splitlines():
                if line.strip() and not line.lstrip().startswith("#"):
                    key, _, value = line.partition("=")
                    data[key.strip()] = value
        for entry in gen.get("files", []):
            key, _, path = entry.rpartition("=")
            data[key or Path(path).name] = (K8S / path).read_text()
        for literal in gen.get("literals", []):
            key, _, value = literal.partition("=")
            data[key] = value
        out.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": gen["name"]}, "data": data})
    return out


def k8s_resources() -> list[dict[str, Any]]:
    """The objects of kustomization.yaml's ``resources`` files."""
    return [
        doc
        for name in kustomization()["resources"]
        for doc in yaml.safe_load_all((K8S / name).read_text())
        if doc is not None
    ]


def k8s_objects() -> list[dict[str, Any]]:
    return k8s_resources() + generated_configmaps()


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


def test_kubernetes_configmaps_are_generated_and_referenced_by_the_deployment() -> None:
    """Generated ConfigMaps (a content hash in the name: pods roll when settings change); the
    Deployment's references are the generator names, which kustomize rewrites to the hashed ones."""
    generated = {g["name"] for g in kustomization()["configMapGenerator"]}
    assert generated == {"ttsgate-settings", "ttsgate-voices"}
    plain = [o for o in k8s_resources() if o["kind"] == "ConfigMap"]
    assert plain == [], "a plain ConfigMap changes under running pods without restarting them"
    pod = find("Deployment", "ttsgate")["spec"]["template"]["spec"]
    refs = {e["configMapRef"]["name"] for c in pod["containers"] for e in c.get("envFrom", [])}
    refs |= {v["configMap"]["name"] for v in pod["volumes"] if "configMap" in v}
    assert refs == generated


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed (kustomize)")
def test_kustomize_renders_hashed_configmaps_and_valid_objects() -> None:
    done = subprocess.run(
        ["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    objects = [o for o in yaml.safe_load_all(done.stdout) if o is not None]
    maps = {o["metadata"]["name"] for o in objects if o["kind"] == "ConfigMap"}
    assert {re.sub(r"-[a-z0-9]{10}$", "", name) for name in maps} == {"ttsgate-settings", "ttsgate-voices"}
    assert not maps & {"ttsgate-settings", "ttsgate-voices"}, "no hash suffix"
    (deployment,) = [o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "ttsgate"]
    pod = deployment["spec"]["template"]["spec"]
    refs = {e["configMapRef"]["name"] for c in pod["containers"] for e in c.get("envFrom", [])}
    refs |= {v["configMap"]["name"] for v in pod["volumes"] if "configMap" in v}
    assert refs == maps
    (image,) = {c["image"] for c in pod["containers"]}
    tag = image.rsplit("/", 1)[-1].partition(":")[2]
    assert tag not in ("", "latest"), image
    for obj in objects:
        kubernetes_validate.validate(obj, K8S_VERSIONS[-1], strict=True)


def test_kubernetes_image_tag_is_pinned() -> None:
    (image,) = kustomization()["images"]
    assert image.get("digest") or image["newTag"] not in ("", "latest")


RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                      "projected", "secret"}  # fmt: skip


def restricted_violations(pod: dict[str, Any]) -> list[str]:
    """What the "restricted" Pod Security Standard would refuse in a pod spec (its container and
    pod-level checks: non-root, seccomp, privilege escalation, capabilities, host namespaces, volumes)."""
    problems = []
    pod_sc = pod.get("securityContext", {})
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(key):
            problems.append(key)
    for volume in pod.get("volumes", []):
        if not set(volume) - {"name"} <= RESTRICTED_VOLUMES:
            problems.append(f"volume {volume['name']}")
    for c in pod["containers"] + pod.get("initContainers", []):
        sc, name = c.get("securityContext", {}), c["name"]
        if not sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")):
            problems.append(f"{name}: runAsNonRoot")
        if sc.get("runAsUser", pod_sc.get("runAsUser")) == 0:
            problems.append(f"{name}: runAsUser 0")
        if sc.get("seccompProfile", pod_sc.get("seccompProfile", {})).get("type") not in (
            "RuntimeDefault",
            "Localhost",
        ):
            problems.append(f"{name}: seccompProfile")
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{name}: allowPrivilegeEscalation")
        if sc.get("privileged"):
            problems.append(f"{name}: privileged")
        caps = sc.get("capabilities", {})
        if "ALL" not in caps.get("drop", []) or set(caps.get("add", [])) - {"NET_BIND_SERVICE"}:
            problems.append(f"{name}: capabilities")
    return problems


@pytest.mark.parametrize("name", ["ttsgate", "ttsgate-redis"])
def test_kubernetes_pods_meet_the_restricted_pod_security_standard(name: str) -> None:
    pod = find("Deployment", name)["spec"]["template"]["spec"]
    assert restricted_violations(pod) == []
    del pod["securityContext"]["seccompProfile"]
    assert restricted_violations(pod) != [], "the check catches a missing seccomp profile"


def test_kubernetes_startup_probe_waits_for_warm_up_then_liveness_and_readiness_take_over() -> None:
    container = find("Deployment", "ttsgate")["spec"]["template"]["spec"]["containers"][0]
    startup = container["startupProbe"]
    assert startup["httpGet"]["path"] == "/ready", "/health answers at once: it would guard nothing"
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 300
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"


def systemd_unit() -> dict[str, list[str]]:
    unit: dict[str, list[str]] = {}
    for line in (DEPLOY / "systemd" / "ttsgate@.service").read_text().splitlines():
        if "=" in line and not line.startswith(("#", ";")):
            key, _, value = line.partition("=")
            unit.setdefault(key.strip(), []).append(value.strip())
    return unit


def test_systemd_stop_drains_before_sigkill() -> None:
    unit = systemd_unit()
    env = dict(v.split("=", 1) for v in unit["Environment"])
    grace = float(env["TTSGATE_SHUTDOWN_GRACE_S"])
    (timeout,) = unit["TimeoutStopSec"]
    assert float(timeout) > grace, "systemd must not SIGKILL a draining replica"
    assert unit["KillMode"] == ["mixed"], "SIGTERM to ttsgate only, not to the espeak-ng runs it waits for"


def test_systemd_unit_reads_the_models_where_its_documented_install_writes_them() -> None:
    """The unit runs as its own user: without XDG_CACHE_HOME it would look in that user's ~/.cache,
    while the install (as root) converts the Mandarin voice into root's, and zh-baker never loads."""
    unit = systemd_unit()
    env = dict(v.split("=", 1) for v in unit["Environment"])
    cache = env.get("XDG_CACHE_HOME", "")
    (workdir,) = unit["WorkingDirectory"]
    assert cache.startswith(workdir + "/"), "a fixed folder the install step fills, not a user's home"
    install = f"XDG_CACHE_HOME={cache} scripts/install.sh"
    text = (DEPLOY / "systemd" / "ttsgate@.service").read_text()
    assert install in text, "the unit's header says how to install into that folder"
    assert install in (ROOT / "README.md").read_text()
    assert f"XDG_CACHE_HOME={cache}" in (ROOT / "docs" / "zh_baker_onnx.md").read_text()
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert f"XDG_CACHE_HOME={cache}" in dockerfile, "the image and the unit read the same folder"
    writable = " ".join(unit.get("ReadWritePaths", []))
    assert cache not in writable, "models are only read"


def test_systemd_does_not_restart_into_a_fault_that_restarting_cannot_fix() -> None:
    from ttsgate.cli import EXIT_BAD_SETTING, EXIT_ENGINE_FAILED

    unit = systemd_unit()
    codes = {int(c) for v in unit.get("RestartPreventExitStatus", []) for c in v.split()}
    assert {EXIT_BAD_SETTING, EXIT_ENGINE_FAILED} <= codes


def test_compose_exposes_monitoring_on_loopback_only_and_requires_api_keys() -> None:
    services = compose()["services"]
    for name in ("prometheus", "grafana"):
        assert all(p.startswith("127.0.0.1:") for p in services[name]["ports"]), name
    keys = services["ttsgate"]["environment"]["TTSGATE_API_KEYS"]
    assert re.fullmatch(r"\$\{TTSGATE_API_KEYS:\?[^}]+\}", keys), keys


def rendered_compose_nginx_conf() -> str:
    command = compose()["services"]["nginx"]["command"][-1]
    conf = (DEPLOY / "nginx" / "ttsgate.conf").read_text()
    for edit in re.findall(r"-e '([^']*)'", command):
        if edit.startswith("/"):
            pattern = edit.strip("/").removesuffix("/d")
            conf = "\n".join(line for line in conf.splitlines() if not re.search(pattern, line))
        else:
            _, old, new, _ = edit.split("/")
            conf = re.sub(old, new, conf)
    return conf


def test_compose_nginx_re_resolves_the_replicas() -> None:
    """`docker compose up --scale` and restarted replicas are found without restarting nginx:
    `resolve` (open-source nginx 1.27.3+) with Docker's DNS and a shared zone."""
    conf = rendered_compose_nginx_conf()
    assert re.search(r"(?m)^\s*server ttsgate:8000 resolve\b", conf)
    assert re.search(r"\bresolver 127\.0\.0\.11\b", conf)
    assert re.search(r"\bzone ttsgate \d+k;", conf)
    image = compose()["services"]["nginx"]["image"]
    version = tuple(int(n) for n in re.findall(r"\d+", image.split(":", 1)[1])[:3])
    assert version >= (1, 27, 3) if len(version) == 3 else version >= (1, 28), image


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx not installed")
def test_compose_nginx_conf_passes_nginx_t(tmp_path: Path) -> None:
    """nginx -t on the rendered file (upstream name made resolvable here, and without `resolve`,
    which the Debian nginx 1.22 on these machines predates)."""
    conf = rendered_compose_nginx_conf().replace("ttsgate:8000 resolve", "127.0.0.1:8000")
    (tmp_path / "ttsgate.conf").write_text(conf)
    temp = " ".join(
        f"{n}_temp_path {tmp_path}/{n};" for n in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  {temp}\n  include {tmp_path}/ttsgate.conf;\n}}\n"
    )
    done = subprocess.run(
        [
            "nginx",
            "-t",
            "-c",
            str(tmp_path / "nginx.conf"),
            "-p",
            str(tmp_path),
            "-e",
            str(tmp_path / "error.log"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
