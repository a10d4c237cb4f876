"""The Kubernetes files agree with each other and with the docs: deploy/Dockerfile, deploy/helm-values.yaml,
deploy/pes-data-pvc.yaml, deploy/dagster.yaml and docs/deployment.md. (No cluster or registry here: the image's
environment itself is built and loaded by .ci/check_image.sh.)"""

from __future__ import annotations

import re
import shlex
import sys

import yaml

from tests.support import ROOT

DEPLOY = ROOT / "deploy"
sys.path.insert(0, str(ROOT / ".ci"))
from dockerfile_steps import instructions, steps  # noqa: E402 — the parser CI uses, not a second one


def dockerfile() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, args in instructions((DEPLOY / "Dockerfile").read_text(encoding="utf-8")):
        found.setdefault(name, []).append(args)
    return found


def values() -> dict:
    return yaml.safe_load((DEPLOY / "helm-values.yaml").read_text(encoding="utf-8"))


def lock(path) -> dict[str, str]:
    """name → version of every pin; every pin carries hashes (pip then installs in hash-checking mode)."""
    text = path.read_text(encoding="utf-8")
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==([^ ;\\\n]+)", text, flags=re.M)
    assert len(re.findall(r"^[A-Za-z0-9_.-]+==.*\\\n\s+--hash=sha256:", text, flags=re.M)) == len(pins)
    return {name.lower().replace("_", "-"): version for name, version in pins}


def image_env() -> dict[str, str]:
    return dict(pair.split("=", 1) for args in dockerfile()["ENV"] for pair in shlex.split(args))


def code_location() -> dict:
    [deployment] = values()["dagster-user-deployments"]["deployments"]
    return deployment


def test_dockerfile_builds_from_the_locks_as_a_non_root_user_with_data_volumes():
    d = dockerfile()
    assert d["FROM"] == ["python:3.11-slim"]
    assert 'requires-python = ">=3.11"' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    pip = [s for s in steps(DEPLOY / "Dockerfile") if s.startswith("pip ")]
    assert pip == [
        "pip install --require-hashes --no-deps -r requirements.lock -r requirements-k8s.lock",
        "pip check",
        "pip install --no-deps .",
    ]
    [user] = d["USER"]
    uid = re.search(r"useradd --uid (\d+) .* " + user + r"\b", " ".join(d["RUN"]))[1]
    assert user != "root" and uid == "10001"
    env = image_env()
    assert (env["PIPELINE_RAW_ROOT"], env["PIPELINE_OUT_ROOT"]) == ("/data/raw", "/data/out")
    assert d["VOLUME"] == ['["/data/raw", "/data/out"]']
    assert d["CMD"] == ['["dagster", "api", "grpc", "-m", "pipeline.definitions", "-h", "0.0.0.0", "-p", "3030"]']


def test_dagster_k8s_is_pinned_at_the_dagster_postgres_version_without_repinning_the_lock():
    main, k8s = lock(ROOT / "requirements.lock"), lock(DEPLOY / "requirements-k8s.lock")
    assert k8s["dagster-k8s"] == main["dagster-postgres"] == "0.29.27"
    assert {name: k8s[name] for name in set(main) & set(k8s)} == {name: main[name] for name in set(main) & set(k8s)}
    assert set(k8s) - set(main) >= {"dagster-k8s", "kubernetes"}  # adds packages, never a second version of one


def test_helm_values_run_the_image_with_its_paths_and_volume_in_every_run_pod():
    v, loc = values(), code_location()
    assert v["runLauncher"]["type"] == "K8sRunLauncher"
    assert loc["dagsterApiGrpcArgs"] == ["-m", "pipeline.definitions"]
    assert str(loc["port"]) in dockerfile()["EXPOSE"]
    assert loc["includeConfigInLaunchedRuns"] == {"enabled": True}
    env = {e["name"]: e["value"] for e in loc["env"]}
    assert {k: image_env()[k] for k in env} == env
    assert env == {"PIPELINE_RAW_ROOT": "/data/raw", "PIPELINE_OUT_ROOT": "/data/out"}
    [volume], [mount] = loc["volumes"], loc["volumeMounts"]
    assert mount["name"] == volume["name"] and all(p.startswith(mount["mountPath"] + "/") for p in env.values())
    claim = yaml.safe_load((DEPLOY / "pes-data-pvc.yaml").read_text(encoding="utf-8"))
    assert claim["kind"] == "PersistentVolumeClaim"
    assert claim["metadata"]["name"] == volume["persistentVolumeClaim"]["claimName"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]  # mounted by pods on different nodes
    assert loc["podSecurityContext"]["runAsUser"] == 10001 == loc["podSecurityContext"]["fsGroup"]


def test_helm_values_keep_the_instance_settings_of_deploy_dagster_yaml():
    v = values()
    instance = yaml.safe_load((DEPLOY / "dagster.yaml").read_text(encoding="utf-8"))
    assert v["concurrency"]["enabled"] is True
    assert v["concurrency"]["runs"]["tagConcurrencyLimits"] == instance["concurrency"]["runs"]["tag_concurrency_limits"]
    assert v["pythonLogs"]["pythonLogLevel"] == instance["python_logs"]["python_log_level"] == "INFO"
    assert v["telemetry"] == instance["telemetry"] == {"enabled": False}
    pg = v["postgresql"]
    assert pg["enabled"] is False and pg["postgresqlHost"] and pg["postgresqlUsername"] and pg["postgresqlDatabase"]
    assert "postgresqlPassword" not in pg and v["generatePostgresqlPasswordSecret"] is False
    assert v["dagsterDaemon"]["runMonitoring"]["enabled"] is True


def test_every_chart_key_the_docs_name_is_in_the_values():
    doc = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    section = doc[doc.index("### Kubernetes") : doc.index("### Overriding the executor")]
    top = tuple(values())
    named = sorted({m for m in re.findall(r"`([\w-]+(?:\.[\w-]+)+)", section) if m.startswith(top)})
    assert {
        "runLauncher.type",
        "concurrency.runs.tagConcurrencyLimits",
        "postgresql.enabled",
        "pythonLogs.pythonLogLevel",
        "dagster-user-deployments.deployments",
        "dagsterDaemon.runMonitoring.enabled",
    } <= set(named)
    for dotted in named:
        node = values()
        for part in dotted.split("."):
            assert isinstance(node, dict) and part in node, f"docs name {dotted}, not in deploy/helm-values.yaml"
            node = node[part]
    for key in ("env", "volumes", "volumeMounts", "includeConfigInLaunchedRuns"):
        assert f"`{key}" in section and key in code_location()
