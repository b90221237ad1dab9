"""Every manifest the operator renders passes kubernetes-validate (strict) for Kubernetes
1.30 and 1.34; KubeRay objects' pod templates are checked as the PodTemplates they are."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from operators.config import OperatorConfig
from operators.render import cronjob, finetune, rayservice, routes
from tests.support import kube

VERSIONS = ["1.30.0", "1.34.0"]
DATABASE_ENV = {
    "name": "LLMOPS_DRIFT__DATABASE_URL",
    "valueFrom": {"secretKeyRef": {"name": "llmops", "key": "database-url"}},
}
CONFIG = OperatorConfig.model_validate(
    {
        "nodePools": [
            {
                "name": "a100",
                "gpuType": "nvidia-tesla-a100",
                "nodeSelector": {"cloud.google.com/gke-nodepool": "gpu-a100"},
                "tolerations": [
                    {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
                ],
            }
        ],
        "driftCheck": {"env": [DATABASE_ENV]},
    }
)
POOL = CONFIG.node_pools[0]


def check_container(monitor: dict[str, Any]) -> dict[str, Any]:
    spec = cronjob.render(monitor, CONFIG)["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    container: dict[str, Any] = spec["containers"][0]
    return container


def test_drift_checks_get_the_configured_env() -> None:
    container = check_container(example("driftmonitor"))
    assert DATABASE_ENV in container["env"]
    assert any(e["name"] == "LLMOPS_DRIFT__MIN_SAMPLES" for e in container["env"])


def test_the_canary_is_judged_before_the_check_with_the_monitors_rules() -> None:
    monitor = example("driftmonitor")
    monitor["spec"]["canary"] = {"soak": "2h", "minRequests": 50}
    container = check_container(monitor)
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["LLMOPS_DRIFT__CANARY__SOAK_SECONDS"] == "7200"
    assert env["LLMOPS_DRIFT__CANARY__MIN_REQUESTS"] == "50"
    model = monitor["spec"]["fineTuneTemplate"]["spec"]["outputModel"]
    assert (
        f"llmops drift canary --deployment {monitor['spec']['deployment']} --model {model}"
        in (container["command"][2])
    )
    monitor["spec"]["canary"] = {"judge": False}
    container = check_container(monitor)
    assert "drift canary" not in container["command"][2]
    assert not any("CANARY" in e["name"] for e in container["env"])


def example(kind: str) -> dict[str, Any]:
    body: dict[str, Any] = yaml.safe_load(
        (kube.ROOT / "helm/llmops/examples" / f"{kind}.yaml").read_text()
    )
    body["metadata"]["uid"] = "0b7c1c8e-6e0b-4a53-9a57-4b2b9c6f7b11"
    return body


def pod_templates(ray_object: dict[str, Any]) -> list[dict[str, Any]]:
    spec = ray_object["spec"]
    cluster = spec.get("rayClusterConfig") or spec.get("rayClusterSpec")
    groups = [cluster["headGroupSpec"], *cluster["workerGroupSpecs"]]
    return [
        {
            "apiVersion": "v1",
            "kind": "PodTemplate",
            "metadata": {"name": "t"},
            "template": g["template"],
        }
        for g in groups
    ]


def rendered() -> list[tuple[str, dict[str, Any]]]:
    ftj, md, dm = example("finetunejob"), example("modeldeployment"), example("driftmonitor")
    wide = {**ftj, "spec": {**ftj["spec"], "nodes": 4}}
    service = rayservice.render(
        md,
        CONFIG,
        [rayservice.ServedVersion("3", "stable"), rayservice.ServedVersion("4", "canary")],
        POOL,
    )
    ray_job = finetune.render(wide, CONFIG, finetune.Attempt(1, POOL, "team-a"))
    text = routes.document([routes.model_route("support-bot", "http://svc:8000", "3", "4", 10)])
    objects = [
        ("job", finetune.render(ftj, CONFIG, finetune.Attempt(1, POOL, None))),
        ("job-kueue", finetune.render(ftj, CONFIG, finetune.Attempt(2, POOL, "team-a"))),
        ("cronjob", cronjob.render(dm, CONFIG)),
        ("configmap", routes.config_map("llmops-routes", "llmops", text)),
    ]
    objects += [(f"rayservice-pod-{i}", t) for i, t in enumerate(pod_templates(service))]
    objects += [(f"rayjob-pod-{i}", t) for i, t in enumerate(pod_templates(ray_job))]
    return objects


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("name", "manifest"), rendered(), ids=[n for n, _ in rendered()])
def test_rendered_manifest_is_valid_kubernetes(
    name: str, manifest: dict[str, Any], version: str
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", DeprecationWarning
        )  # jsonschema's RefResolver in the validator
        kubernetes_validate.validate(manifest, version, strict=True)


def test_the_crds_are_valid_customresourcedefinitions() -> None:
    for crd in kube.crds():
        for version in VERSIONS:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                kubernetes_validate.validate(crd, version, strict=True)


def test_an_invalid_manifest_is_caught() -> None:
    job = rendered()[0][1]
    job["spec"]["template"]["spec"]["containers"][0]["resoures"] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(kubernetes_validate.ValidationError, match="resoures"):
            kubernetes_validate.validate(job, "1.34.0", strict=True)


def test_a_priced_deployment_gives_its_route_the_price_and_an_unpriced_one_none() -> None:
    price = {"input": "0.15", "cachedInput": "0.075", "output": "0.6"}
    route = routes.model_route("support-bot", "http://svc:8000", "3", "4", 10, price=price)
    assert route["price"] == {"input": "0.15", "cached_input": "0.075", "output": "0.6"}
    assert [v["version"] for v in route["versions"]] == ["3", "4"]
    without_cached = routes.model_route(
        "support-bot", "http://svc:8000", "3", None, 0, price={"input": "1", "output": "2.5"}
    )
    assert without_cached["price"] == {"input": "1", "output": "2.5"}
    assert "price" not in routes.model_route("support-bot", "http://svc:8000", "3", None, 0)
    assert "price" not in routes.model_route(
        "support-bot", "http://svc:8000", "3", None, 0, price={}
    )
    # The prices stay decimal strings in routes.yaml: no float rounding on the way.
    text = routes.document([route])
    assert yaml.safe_load(text)["models"][0]["price"]["cached_input"] == "0.075"


def test_rendered_routes_are_what_the_gateway_reads() -> None:
    from gateway.settings import ModelRoute

    for canary, weight in (("4", 10), (None, 0), ("4", 100)):
        ModelRoute.model_validate(routes.model_route("m", "http://svc:8000", "3", canary, weight))
    if "price" not in ModelRoute.model_fields:
        pytest.skip("this gateway's routes take no price")
    price = {"input": "0.15", "cachedInput": "0.075", "output": "0.6"}
    ModelRoute.model_validate(routes.model_route("m", "http://svc:8000", "3", "4", 10, price=price))
    del price["cachedInput"]
    ModelRoute.model_validate(routes.model_route("m", "http://svc:8000", "3", None, 0, price=price))


def test_a_shadow_version_reaches_the_route_only_with_a_share() -> None:
    from gateway.settings import ModelRoute

    spec = {"alias": "challenger", "share": 0.25, "maxInFlight": 4}
    route = routes.model_route("m", "http://svc:8000", "3", None, 0, shadow="5", shadow_spec=spec)
    parsed = ModelRoute.model_validate(route)
    assert parsed.shadow is not None
    assert (parsed.shadow.version, parsed.shadow.share, parsed.shadow.max_in_flight) == (
        "5",
        0.25,
        4,
    )
    assert parsed.shadow.upstream_urls() == ["http://svc:8000/m/v5/v1"]
    off = routes.model_route(
        "m", "http://svc:8000", "3", None, 0, shadow="5", shadow_spec={"share": 0}
    )
    assert "shadow" not in off


def test_the_example_deployments_price_reaches_its_route() -> None:
    price = example("modeldeployment")["spec"]["price"]
    route = routes.model_route("support-bot", "http://svc:8000", "3", None, 0, price=price)
    assert route["price"] == {"input": "0.15", "cached_input": "0.075", "output": "0.60"}


def test_rayservice_runs_our_serving_app_with_valid_replica_settings() -> None:
    from llmops.serving.settings import ServingSettings

    service = rayservice.render(
        example("modeldeployment"), CONFIG, [rayservice.ServedVersion("3", "stable")], POOL
    )
    config = yaml.safe_load(service["spec"]["serveConfigV2"])
    (app,) = config["applications"]
    assert app["import_path"] == "llmops.serving.ray_app:app_from_args"
    settings = ServingSettings.model_validate(app["args"])
    assert settings.engine == "vllm" and settings.source == "models:/support-bot/3"
    assert settings.autoscaling.max_replicas == 4 and settings.max_model_len == 4096
    assert settings.route_prefix == app["route_prefix"] == "/support-bot/v3"


@pytest.mark.parametrize(
    ("eval_code", "promote_code", "promoted", "job_code"),
    [(0, 0, True, 0), (3, 0, False, 0), (0, 3, True, 0), (1, 0, False, 1), (0, 1, True, 1)],
)
def test_a_suite_runs_before_the_promotion_and_a_refusal_ends_the_job_well(
    tmp_path: Path, eval_code: int, promote_code: int, promoted: bool, job_code: int
) -> None:
    """The Job's promotion lines, run by sh with a stand-in ``llmops`` that records its calls
    (the trainer image's command is the edge here)."""
    spec = {
        "outputModel": "support-bot",
        "base": "bundled:smollm2",
        "datasets": ["s3://data/train.jsonl"],
        "promotion": {
            "to": "challenger",
            "gates": ["eval.support.win_rate>=0.55"],
            "suite": "/suites/support.yaml",
        },
    }
    text = finetune.script(spec, "http://mlflow:5000")
    result = tmp_path / "result.json"
    result.write_text('{"version": "7"}')
    lines = text.replace("/tmp/result.json", str(result)).splitlines()
    promotion = "\n".join(
        ["set -eu", *lines[lines.index(next(x for x in lines if x.startswith("version="))) :]]
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    stub = bin_dir / "llmops"
    stub.write_text(
        f'#!/bin/sh\necho "$*" >> {calls}\n'
        f'case "$1" in eval) exit {eval_code};; models) exit {promote_code};; esac\n'
    )
    stub.chmod(0o755)
    python = bin_dir / "python"
    python.symlink_to(sys.executable)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["sh", "-c", promotion], env=env, capture_output=True, check=False)
    assert (done.returncode == 0) == (job_code == 0), done.stderr
    made = calls.read_text().splitlines()
    assert made[0].startswith("eval run --against models:/support-bot@champion")
    assert "--model models:/support-bot/7" in made[0]
    assert any(c.startswith("models promote support-bot") for c in made) == promoted


def test_a_feedback_job_builds_its_pairs_from_the_database_then_trains_on_them(
    tmp_path: Path,
) -> None:
    """The Job's lines run by sh with a stand-in ``llmops``: the pairs come first (with the
    database's env), and too few of them end the job before any training."""
    spec = {
        "outputModel": "support-bot",
        "base": "models:/support-bot@champion",
        "recipe": "dpo",
        "datasets": [],
        "feedbackPairs": {"model": "support-bot", "since": "2026-12-01T00:00:00Z", "minPairs": 8},
    }
    body = {
        "apiVersion": "llmops.io/v1alpha1",
        "kind": "FineTuneJob",
        "metadata": {"name": "fb", "namespace": "ml", "uid": "u-1"},
        "spec": spec,
    }
    job = finetune.render_job(body, CONFIG, finetune.Attempt(1, POOL, None))
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert DATABASE_ENV in container["env"]
    text = container["command"][2]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    for pairs_code, trained in ((0, True), (4, False)):
        calls.unlink(missing_ok=True)
        stub = bin_dir / "llmops"
        stub.write_text(
            f'#!/bin/sh\necho "$*" >> {calls}\n'
            f'case "$1" in feedback) exit {pairs_code};; finetune) echo "{{}}";; esac\n'
        )
        stub.chmod(0o755)
        env = {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "LLMOPS_DRIFT__DATABASE_URL": "postgresql://db/llmops",
        }
        script = text.replace(finetune.RESULT_FILE, str(tmp_path / "message"))
        done = subprocess.run(["sh", "-c", script], env=env, capture_output=True, check=False)
        made = calls.read_text().splitlines()
        assert made[0] == (
            "feedback pairs --model support-bot --min-pairs 8 --out "
            f"{finetune.FEEDBACK_PAIRS} --since 2026-12-01T00:00:00Z "
            "--database-url postgresql://db/llmops --json"
        )
        assert (done.returncode == 0) == trained, done.stderr
        assert any(c.startswith("finetune run") for c in made) == trained
    train = next(line for line in text.splitlines() if line.startswith("llmops finetune run"))
    assert f"--data {finetune.FEEDBACK_PAIRS}" in train and "--recipe dpo" in train
