"""values.schema.json and the chart's own checks refuse bad values with a message that
names the key, before anything reaches a cluster."""

from __future__ import annotations

import json
from typing import Any

import helm_python
import pytest
import yaml

from tests.support import chart


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"gateway": {"replica": 3}}, "at '/gateway': additional properties 'replica' not allowed"),
        ({"gateway": {"replicas": "two"}}, "at '/gateway/replicas'"),
        (
            {"gateway": {"config": {"database_url": "sqlite:///x.db"}}},
            "at '/gateway/config': additional properties 'database_url' not allowed",
        ),
        (
            {"gateway": {"config": {"limits": {"window_seconds": -1}}}},
            "/gateway/config/limits/window_seconds",
        ),
        (
            {"gateway": {"config": {"models": [{"name": "m", "strategy": "random"}]}}},
            "/gateway/config/models/0/strategy",
        ),
        (
            {"containerSecurityContext": {"readOnlyRootFilesystem": False}},
            "at '/containerSecurityContext/readOnlyRootFilesystem': value must be true",
        ),
        (
            {"podSecurityContext": {"runAsNonRoot": False}},
            "at '/podSecurityContext/runAsNonRoot': value must be true",
        ),
        (
            {"gateway": {"resources": {"limits": None}}},
            "at '/gateway/resources': missing property 'limits'",
        ),
        (
            {
                "operator": {
                    "nodePools": [{"name": "a", "nodeSelector": {"a": "b"}, "gpusPerNode": 1}]
                }
            },
            "at '/operator/nodePools/0': missing property 'gpuType'",
        ),
        (
            {
                "operator": {
                    "nodePools": [
                        {
                            "name": "GPU_A",
                            "gpuType": "t",
                            "nodeSelector": {"a": "b"},
                            "gpusPerNode": 1,
                        }
                    ]
                }
            },
            "at '/operator/nodePools/0/name'",
        ),
        ({"mlflow": {"artifacts": {"type": "azure"}}}, "at '/mlflow/artifacts/type'"),
        ({"mlflow": {"artifacts": {"type": "s3"}}}, "at '/mlflow/artifacts/s3/bucket'"),
        ({"redis": {"mode": "cluster"}}, "at '/redis/mode'"),
        (
            {"defaultModelDeployment": {"spec": {"engine": "tgi"}}},
            "at '/defaultModelDeployment/spec/engine'",
        ),
        (
            {"defaultModelDeployment": {"spec": {"replica": 2}}},
            "at '/defaultModelDeployment/spec': additional properties 'replica' not allowed",
        ),
        (
            {"monitoring": {"prometheusRule": {"errorRateThreshold": 5}}},
            "/monitoring/prometheusRule/errorRateThreshold",
        ),
        (
            {"guardrails": {"policies": {"default": {"input": {"injection": {"action": "mask"}}}}}},
            "at '/guardrails/policies/default/input/injection/action'",
        ),
        (
            {"guardrails": {"policies": {"defaults": {}}}},
            "at '/guardrails/policies': additional properties 'defaults' not allowed",
        ),
    ],
)
def test_schema_rejects_bad_values_naming_the_key(values: dict[str, Any], message: str) -> None:
    with pytest.raises(helm_python.HelmValuesError) as caught:
        chart.render(values)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"postgresql": {"mode": "external"}},
            "secrets.existingSecret must name a Secret holding admin-token, key-hash-secret and "
            "database-url, mlflow-database-url (postgresql.mode=external)",
        ),
        ({"redis": {"mode": "external"}}, "redis-url (redis.mode=external)"),
        (
            {"defaultModelDeployment": {"enabled": True, "spec": {"nodePool": "gpu-x"}}},
            'defaultModelDeployment.spec.nodePool "gpu-x" is not one of operator.nodePools',
        ),
        (
            {"defaultModelDeployment": {"enabled": True}, "operator": {"enabled": False}},
            "defaultModelDeployment.enabled needs operator.enabled",
        ),
        (
            {
                "guardrails": {"policies": {"default": {"input": {"secrets": {}}}}},
                "gateway": {"config": {"guardrails": {"teams": {"research": {}}}}},
            },
            "gateway.config.guardrails.teams cannot be given with guardrails.policies",
        ),
    ],
)
def test_rules_across_values_fail_with_a_clear_message(
    values: dict[str, Any], message: str
) -> None:
    with pytest.raises(helm_python.HelmRenderError) as caught:
        chart.render(values)
    assert message in str(caught.value)


def test_every_default_value_and_profile_passes_the_schema() -> None:
    with helm_python.Chart.load(chart.CHART) as loaded:
        for path in sorted(chart.PROFILES.glob("*-values.yaml")):
            loaded.validate_schema(yaml.safe_load(path.read_text()) or {})


def test_generated_schema_parts_follow_the_gateway_settings_and_the_crd() -> None:
    schema = json.loads(chart.SCHEMA.read_text())
    stale = sorted(
        name for name, value in chart.generated_defs().items() if schema["$defs"].get(name) != value
    )
    assert not stale, f"values.schema.json is stale ({stale}): run `python -m tests.support.chart`"
