"""The team deployment's files agree with each other, with the image and with `serve`:
the Kubernetes manifests and the compose file parse, name the replicas HAProxy's config
names, use the port the image exposes, probe the health route, and set only variables
`serve` reads. No cluster is needed (tests/test_team.py runs the config itself)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from cadenza_mock.contract.operations import OPERATIONS
from cadenza_mock.contract.options import ServerOptions
from tests.support import REPO
from tests.team_support import HAPROXY, requires_haproxy

DEPLOY = REPO / "deploy"
CONFIG = (DEPLOY / "haproxy.cfg").read_text(encoding="utf-8")
HEALTH = next(op.path for op in OPERATIONS if op.handler == "admin.health")


def _docs(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def _kind(kind: str, name: str | None = None) -> dict[str, Any]:
    found = [
        doc
        for path in sorted((DEPLOY / "kubernetes").glob("*.yaml"))
        for doc in _docs(path)
        if doc["kind"] == kind and (name is None or doc["metadata"]["name"] == name)
    ]
    assert len(found) == 1, (kind, name, len(found))
    return found[0]


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {item["name"]: item.get("value", item.get("valueFrom")) for item in container["env"]}


def _image_port() -> int:
    dockerfile = (REPO / "Dockerfile").read_text(encoding="utf-8")
    exposed = re.findall(r"^EXPOSE (\d+)$", dockerfile, re.MULTILINE)
    env_port = re.findall(r"CADENZA_MOCK_PORT=(\d+)", dockerfile)
    assert exposed == env_port and len(exposed) == 1
    return int(exposed[0])


def _servers() -> list[tuple[str, str]]:
    """(name, address) of each `server` line of haproxy.cfg."""
    return re.findall(r"^\s+server (\S+) \"(\$\{[A-Z0-9_]+\})\"", CONFIG, re.MULTILINE)


def test_every_manifest_parses_and_is_labelled() -> None:
    paths = sorted((DEPLOY / "kubernetes").glob("*.yaml"))
    assert [p.name for p in paths] == ["haproxy.yaml", "replicas.yaml"]
    kinds = sorted(doc["kind"] for path in paths for doc in _docs(path))
    assert kinds == ["ConfigMap", "Deployment", "Service", "Service", "StatefulSet"]
    for path in paths:
        for doc in _docs(path):
            assert doc["metadata"]["labels"]["app.kubernetes.io/name"] == "cadenza-mock"


def test_the_configmap_holds_haproxy_cfg_as_it_is() -> None:
    config_map = _kind("ConfigMap")
    assert config_map["data"] == {"haproxy.cfg": CONFIG}
    pod = _kind("Deployment")["spec"]["template"]["spec"]
    assert pod["volumes"] == [{"name": "config", "configMap": {"name": "cadenza-mock-haproxy"}}]
    mounts = pod["containers"][0]["volumeMounts"]
    assert mounts[0]["mountPath"] == "/usr/local/etc/haproxy" and mounts[0]["readOnly"]


def test_the_replicas_are_the_servers_haproxy_names() -> None:
    sets = _kind("StatefulSet")
    name, replicas = sets["metadata"]["name"], sets["spec"]["replicas"]
    servers = _servers()
    assert [s[0] for s in servers] == [f"{name}-{i}" for i in range(replicas)]
    assert [s[1] for s in servers] == [f"${{CADENZA_MOCK_REPLICA_{i}}}" for i in range(replicas)]
    # ?replica=<id> reaches each by its pod name (its --replica-id).
    used = re.findall(r"use-server (\S+) if \{ url_param\(replica\) -m str (\S+) \}", CONFIG)
    assert used == [(s[0], s[0]) for s in servers]
    headless = _kind("Service", sets["spec"]["serviceName"])
    assert headless["spec"]["clusterIP"] == "None"
    labels = sets["spec"]["template"]["metadata"]["labels"]
    assert sets["spec"]["selector"]["matchLabels"] == labels == headless["spec"]["selector"]
    balancer = _kind("Deployment")["spec"]["template"]["spec"]["containers"][0]
    env = _env(balancer)
    port = _image_port()
    for i in range(replicas):
        host = f"{name}-{i}.{headless['metadata']['name']}.$(POD_NAMESPACE).svc.cluster.local"
        assert env[f"CADENZA_MOCK_REPLICA_{i}"] == f"{host}:{port}"
    assert list(env).index("POD_NAMESPACE") < list(env).index("CADENZA_MOCK_REPLICA_0")


def test_ports_and_probes_agree_with_the_image_and_serve() -> None:
    port = _image_port()
    sets = _kind("StatefulSet")
    container = sets["spec"]["template"]["spec"]["containers"][0]
    assert container["ports"] == [{"name": "http", "containerPort": port}]
    assert container["args"][0] == "serve"
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": HEALTH, "port": "http"}
    # The image's user, so runAsNonRoot holds.
    assert sets["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == 10001
    assert "USER 10001:10001" in (REPO / "Dockerfile").read_text(encoding="utf-8")
    headless = _kind("Service", "cadenza-mock")
    assert headless["spec"]["ports"] == [{"name": "http", "port": port, "targetPort": "http"}]
    # The balancer: its bind, container port, probes (HAProxy's monitor-uri) and Service.
    balancer = _kind("Deployment")["spec"]["template"]["spec"]["containers"][0]
    bind = int(_env(balancer)["CADENZA_LB_BIND"].rsplit(":", 1)[1])
    assert balancer["ports"] == [{"name": "http", "containerPort": bind}]
    monitor = re.search(r"^\s+monitor-uri (\S+)$", CONFIG, re.MULTILINE)
    assert monitor is not None
    for probe in ("readinessProbe", "livenessProbe"):
        assert balancer[probe]["httpGet"] == {"path": monitor.group(1), "port": "http"}
    assert re.search(rf"option httpchk GET {re.escape(HEALTH)}$", CONFIG, re.MULTILINE)
    lb = _kind("Service", "cadenza-mock-lb")
    assert lb["spec"]["ports"] == [{"name": "http", "port": bind, "targetPort": "http"}]


def test_the_replicas_set_only_serve_options_and_take_the_token_from_a_secret() -> None:
    container = _kind("StatefulSet")["spec"]["template"]["spec"]["containers"][0]
    env = _env(container)
    fields = set(ServerOptions.names())
    for variable in env:
        assert variable.removeprefix("CADENZA_MOCK_").lower() in fields, variable
    assert env["CADENZA_MOCK_ADMIN_TOKEN"] == {
        "secretKeyRef": {"name": "cadenza-mock-admin", "key": "token"}
    }
    assert env["CADENZA_MOCK_REPLICA_ID"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    # Options given as values must be values serve accepts.
    ServerOptions(scenario=env["CADENZA_MOCK_SCENARIO"])
    ServerOptions(max_namespaces=int(env["CADENZA_MOCK_MAX_NAMESPACES"]))


def test_the_compose_file_runs_the_same_topology() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    servers = [s[0] for s in _servers()]
    assert sorted(services) == sorted([*servers, "haproxy"])
    port = _image_port()
    fields = set(ServerOptions.names())
    for server in servers:
        service = services[server]
        assert service["build"] == {"context": ".."} and service["command"][0] == "serve"
        assert service["environment"]["CADENZA_MOCK_REPLICA_ID"] == server
        for variable in service["environment"]:
            assert variable.removeprefix("CADENZA_MOCK_").lower() in fields, variable
        # The token from the caller's environment, never a value written here.
        token = service["environment"]["CADENZA_MOCK_ADMIN_TOKEN"]
        assert token.startswith("${CADENZA_MOCK_ADMIN_TOKEN:?")
    haproxy = services["haproxy"]
    assert haproxy["volumes"] == ["./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro"]
    for i, server in enumerate(servers):
        assert haproxy["environment"][f"CADENZA_MOCK_REPLICA_{i}"] == f"{server}:{port}"
    bind = haproxy["environment"]["CADENZA_LB_BIND"].rsplit(":", 1)[1]
    assert haproxy["ports"] == [f"127.0.0.1:{bind}:{bind}"]


@requires_haproxy
@pytest.mark.parametrize("where", ["kubernetes", "compose"])
def test_haproxy_accepts_the_config_with_each_environment(where: str) -> None:
    if where == "compose":
        compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
        env = dict(compose["services"]["haproxy"]["environment"])
    else:
        container = _kind("Deployment")["spec"]["template"]["spec"]["containers"][0]
        raw = {k: v for k, v in _env(container).items() if isinstance(v, str)}
        env = {k: v.replace("$(POD_NAMESPACE)", "team") for k, v in raw.items()}
    assert HAPROXY is not None
    checked = subprocess.run(
        [HAPROXY, "-c", "-f", str(DEPLOY / "haproxy.cfg")],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Configuration file is valid" in checked.stdout
