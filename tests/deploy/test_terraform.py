"""The Terraform modules parse, document their variables, are formatted, and give their GPU
node pools exactly the labels and taints the chart's node pools select and tolerate."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import hcl2
import pytest

from tests.support import chart

TERRAFORM = chart.ROOT / "terraform"
CLOUDS = {
    "gke": ("google_container_node_pool", "gpu"),
    "eks": ("aws_eks_node_group", "gpu"),
}
EFFECTS = {
    "NO_SCHEDULE": "NoSchedule",
    "PREFER_NO_SCHEDULE": "PreferNoSchedule",
    "NO_EXECUTE": "NoExecute",
}


def _load(path: Path) -> dict[str, Any]:
    with path.open() as f:
        data: dict[str, Any] = hcl2.load(f)
    return data


def _literal(value: Any) -> Any:
    """An HCL literal as Python: python-hcl2 keeps strings' quotes."""
    if isinstance(value, str):
        assert value.startswith('"') and value.endswith('"'), f"not a literal: {value}"
        return value[1:-1]
    if isinstance(value, list):
        return [_literal(v) for v in value]
    if isinstance(value, dict):
        return {k.strip('"'): _literal(v) for k, v in value.items() if k != "__is_block__"}
    return value


def _block(blocks: list[dict[str, Any]], *names: str) -> dict[str, Any]:
    for block in blocks:
        node: Any = block
        for name in names:
            node = node.get(f'"{name}"') if isinstance(node, dict) else None
        if node is not None:
            result: dict[str, Any] = node
            return result
    raise KeyError(names)


def test_every_file_parses() -> None:
    files = sorted(TERRAFORM.rglob("*.tf"))
    assert len(files) >= 15
    for path in files:
        _load(path)


def test_variables_and_outputs_are_documented() -> None:
    for path in TERRAFORM.rglob("*.tf"):
        data = _load(path)
        for kind in ("variable", "output"):
            for block in data.get(kind, []):
                for name, body in block.items():
                    assert len(_literal(body.get("description", '""'))) > 10, (
                        f"{path}: {kind} {name}"
                    )


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
def test_terraform_fmt_is_clean() -> None:
    result = subprocess.run(
        ["terraform", "fmt", "-check", "-recursive", "-list=true", str(TERRAFORM)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"not formatted: {result.stdout}{result.stderr}"


def _node_labels_and_taints(
    cloud: str, pool: dict[str, Any]
) -> tuple[dict[str, str], list[dict[str, str]]]:
    """What the module's GPU pool resource puts on the nodes of ``pool``."""
    resource_type, name = CLOUDS[cloud]
    resource = _block(
        _load(TERRAFORM / "modules" / cloud / "main.tf")["resource"], resource_type, name
    )
    body = resource["node_config"][0] if cloud == "gke" else resource
    raw = body["labels"]
    if isinstance(raw, dict):  # a map literal
        raw = " ".join(f"{k} = {v.strip('${}')}" for k, v in raw.items())
    labels: dict[str, str] = {}
    for key, field in re.findall(r'\\?"([\w./-]+)\\?" = each\.value\.(\w+)', raw):
        labels[key] = pool[field]
    assert labels, f"no labels from the pool in {body['labels']}"
    taints = [_literal(t) for t in body["taint"]]
    return labels, taints


def _chart_pools(cloud: str, pools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The module's ``chart_node_pools`` output evaluated for ``pools``."""
    outputs = _load(TERRAFORM / "modules" / cloud / "outputs.tf")["output"]
    expr = _block(outputs, "chart_node_pools")["value"]
    selector = dict(re.findall(r'nodeSelector = \{\\?"([\w./-]+)\\?" = p\.(\w+)\}', expr))
    toleration = dict(re.findall(r'(key|operator|effect) = \\?"([\w./-]+)\\?"', expr))
    fields = dict(re.findall(r"(name|gpuType|gpusPerNode|priority) = p\.(\w+)", expr))
    assert selector and set(toleration) == {"key", "operator", "effect"} and len(fields) == 4, expr
    return [
        {
            "name": p[fields["name"]],
            "gpuType": p[fields["gpuType"]],
            "nodeSelector": {k: p[v] for k, v in selector.items()},
            "tolerations": [toleration],
            "gpusPerNode": p[fields["gpusPerNode"]],
            "priority": p.get(fields["priority"], 0),
        }
        for p in pools
    ]


def _example_pools(cloud: str) -> list[dict[str, Any]]:
    modules = _load(TERRAFORM / "examples" / cloud / "main.tf")["module"]
    cluster = _block(modules, "cluster")
    assert _literal(cluster["source"]) == f"../../modules/{cloud}"
    pools: list[dict[str, Any]] = _literal(cluster["gpu_node_pools"])
    return pools


def _tolerates(toleration: dict[str, str], taint: dict[str, str]) -> bool:
    if toleration["key"] != taint["key"] or toleration["effect"] != EFFECTS[taint["effect"]]:
        return False
    return toleration["operator"] == "Exists" or toleration.get("value") == taint["value"]


@pytest.mark.parametrize("cloud", sorted(CLOUDS))
def test_chart_node_pools_select_and_tolerate_the_gpu_nodes(cloud: str) -> None:
    pools = _example_pools(cloud)
    assert len(pools) >= 2
    for pool, chart_pool in zip(pools, _chart_pools(cloud, pools), strict=True):
        labels, taints = _node_labels_and_taints(cloud, pool)
        assert chart_pool["nodeSelector"].items() <= labels.items(), (chart_pool, labels)
        assert taints, f"{pool['name']}: GPU nodes must be tainted for GPU work only"
        for taint in taints:
            assert any(_tolerates(t, taint) for t in chart_pool["tolerations"]), (chart_pool, taint)
        # Another pool's selector must not match these nodes.
        others = [p for p in _chart_pools(cloud, pools) if p["name"] != pool["name"]]
        assert not any(o["nodeSelector"].items() <= labels.items() for o in others)


def test_the_chart_gpu_profile_is_the_gke_example() -> None:
    """helm/llmops/ci/gpu-values.yaml holds what terraform/examples/gke passes to the chart."""
    expected = _chart_pools("gke", _example_pools("gke"))
    assert chart.profile("gpu")["operator"]["nodePools"] == expected


def test_release_module_passes_node_pools_to_the_chart() -> None:
    release = _load(TERRAFORM / "modules" / "llmops-release" / "main.tf")["resource"]
    helm = _block(release, "helm_release", "llmops")
    assert any("operator = {nodePools = var.node_pools}" in v for v in helm["values"])
    for cloud in CLOUDS:
        modules = _load(TERRAFORM / "examples" / cloud / "main.tf")["module"]
        assert _block(modules, "llmops")["node_pools"] == "${module.cluster.chart_node_pools}"
