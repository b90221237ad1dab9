"""Our CRDs as the API server serves them: defaults applied, every CEL rule and enum
enforced with the field named, printer columns, and the status subresource."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from tests.support.cluster.objects import Objects

API = "llmops.io/v1alpha1"
NAMESPACE = "crds"


@pytest.fixture(scope="module")
def served(kube: Objects) -> Objects:
    """The cluster with our CRDs installed from the chart's crds/ folder and established."""
    from tests.support import chart

    kube.apply_files(sorted(chart.CRDS.glob("*.yaml")))
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
    for kind in ("ModelDeployment", "FineTuneJob", "DriftMonitor"):
        kube.resource(API, kind)
    return kube


def body(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": API, "kind": kind, "metadata": {"name": name, "namespace": NAMESPACE}, "spec": spec}  # fmt: skip


def refused(kube: Objects, obj: dict[str, Any]) -> dict[str, Any]:
    """The API server's Status for an object it refuses (422)."""
    with pytest.raises(ApiException) as caught:
        kube.apply(obj)
    assert caught.value.status == 422, caught.value.body
    status: dict[str, Any] = json.loads(caught.value.body or "{}")
    return status


def causes(status: dict[str, Any]) -> dict[str, str]:
    return {c.get("field", ""): c.get("message", "") for c in status["details"]["causes"]}


def test_defaults_are_applied_by_the_api_server(served: Objects) -> None:
    md = served.apply(body("ModelDeployment", "minimal", {"model": "assistant"}))
    assert md["spec"]["alias"] == "champion"
    assert md["spec"]["engine"] == "vllm"
    assert md["spec"]["gpusPerReplica"] == 1
    assert md["spec"]["replicas"] == {"min": 1, "max": 1, "targetOngoingRequests": 8}

    ftj = served.apply(
        body("FineTuneJob", "minimal", {"datasets": ["s3://d/train.jsonl"], "outputModel": "bot"})
    )
    assert ftj["spec"]["base"] == "bundled:smollm2"
    assert ftj["spec"]["recipe"] == "lora-sft"
    assert ftj["spec"]["promotion"]["to"] == "none"
    assert ftj["spec"]["retries"] == {"limit": 2, "backoffSeconds": 30}

    dm = served.apply(body("DriftMonitor", "minimal", {
        "deployment": "minimal",
        "fineTuneTemplate": {"spec": {"datasets": ["s3://d/train.jsonl"], "outputModel": "bot"}},
    }))  # fmt: skip
    assert dm["spec"]["schedule"] == "*/15 * * * *"
    assert dm["spec"]["windows"] == {"reference": "7d", "current": "1h"}
    assert dm["spec"]["canary"]["judge"] is True and dm["spec"]["canary"]["soak"] == "30m"


def test_cel_rules_refuse_bad_objects_naming_the_field(served: Objects) -> None:
    status = refused(
        served,
        body("ModelDeployment", "no-gpu", {"model": "m", "engine": "vllm", "gpusPerReplica": 0}),
    )
    assert causes(status)["spec"].endswith("engine vllm needs gpusPerReplica of at least 1")

    status = refused(
        served,
        body("ModelDeployment", "inverted", {"model": "m", "replicas": {"min": 3, "max": 2}}),
    )
    assert causes(status)["spec"].endswith("replicas.min must not exceed replicas.max")

    # The CPU engine needs no GPU: the first rule lets it through.
    served.apply(
        body("ModelDeployment", "cpu", {"model": "m", "engine": "cpu", "gpusPerReplica": 0})
    )

    status = refused(served, body("FineTuneJob", "nothing", {"datasets": [], "outputModel": "b"}))
    assert causes(status)["spec"].endswith("unless feedbackPairs builds them")
    # Pairs built from users' feedback are data enough.
    served.apply(body("FineTuneJob", "feedback", {
        "datasets": [], "outputModel": "b", "recipe": "dpo", "feedbackPairs": {"model": "bot"},
    }))  # fmt: skip


def test_enums_patterns_and_bounds_are_enforced(served: Objects) -> None:
    status = refused(served, body("ModelDeployment", "tpu", {"model": "m", "engine": "tpu"}))
    assert "spec.engine" in causes(status), status
    status = refused(served, body("ModelDeployment", "bad-name", {"model": "-starts-with-dash"}))
    assert "spec.model" in causes(status), status
    status = refused(
        served, body("ModelDeployment", "heavy", {"model": "m", "canary": {"weight": 101}})
    )
    assert "spec.canary.weight" in causes(status), status
    status = refused(served, body("FineTuneJob", "no-data", {"outputModel": "bot"}))
    assert "spec.datasets" in causes(status), status
    status = refused(
        served, body("FineTuneJob", "dpo", {"datasets": ["x"], "outputModel": "b", "recipe": "ppo"})
    )
    assert "spec.recipe" in causes(status), status
    status = refused(served, body("DriftMonitor", "window", {
        "deployment": "d", "windows": {"current": "an hour"},
        "fineTuneTemplate": {"spec": {"datasets": ["x"], "outputModel": "b"}},
    }))  # fmt: skip
    assert "spec.windows.current" in causes(status), status


def test_printer_columns_are_served(served: Objects) -> None:
    served.apply(body("FineTuneJob", "columns", {"datasets": ["x"], "outputModel": "bot"}))
    table = (
        served.resource(API, "FineTuneJob")
        .get(
            namespace=NAMESPACE,
            header_params={"Accept": "application/json;as=Table;g=meta.k8s.io;v=v1"},
        )
        .to_dict()
    )
    names = [c["name"] for c in table["columnDefinitions"]]
    assert names[:5] == ["Name", "Phase", "Model", "Pool", "Version"], names
    row = next(r for r in table["rows"] if r["cells"][0] == "columns")
    assert row["cells"][2] == "bot"


def test_status_is_a_subresource(served: Objects) -> None:
    created = served.apply(body("FineTuneJob", "status", {"datasets": ["x"], "outputModel": "bot"}))
    generation = created["metadata"]["generation"]
    # A status written through the main resource is dropped...
    served.resource(API, "FineTuneJob").patch(
        body={"status": {"phase": "Running"}}, name="status", namespace=NAMESPACE,
        content_type="application/merge-patch+json",
    )  # fmt: skip
    assert "status" not in (served.get(API, "FineTuneJob", "status", NAMESPACE) or {})
    # ...and kept through /status, without a new generation; its enum is enforced there too.
    served.patch_status(
        API, "FineTuneJob", "status", NAMESPACE, {"phase": "Running", "nodePool": "gpu-l4"}
    )
    stored = served.get(API, "FineTuneJob", "status", NAMESPACE)
    assert stored is not None
    assert stored["status"]["phase"] == "Running"
    assert stored["metadata"]["generation"] == generation
    with pytest.raises(ApiException) as caught:
        served.patch_status(API, "FineTuneJob", "status", NAMESPACE, {"phase": "Exploded"})
    assert caught.value.status == 422 and "status.phase" in (caught.value.body or "")
