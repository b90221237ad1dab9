"""The promote workflow's own step scripts, run with bash against the real registry: the
job fails when a gate refuses (exit 3) and its summary shows each gate's verdict."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import yaml

from tests.registry.conftest import Register

WORKFLOW = Path(__file__).parents[2] / ".github" / "workflows" / "promote.yml"


def _step(name: str) -> str:
    workflow: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text())
    steps = workflow["jobs"]["promote"]["steps"]
    script: str = next(s["run"] for s in steps if s.get("name") == name)
    return script


def _run_step(name: str, workdir: Path, **env: str) -> tuple[int, str]:
    summary = workdir / "summary.md"
    summary.write_text("")
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LLMOPS_")},
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "GITHUB_STEP_SUMMARY": str(summary),
        "LLMOPS_ACTOR": "github:ci-bot",
        **env,
    }
    done = subprocess.run(
        ["bash", "-e", "-c", _step(name)],
        cwd=workdir,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return done.returncode, summary.read_text() + done.stdout + done.stderr


def test_the_promote_step_fails_on_a_refusing_gate_and_passes_a_good_version(
    mlflow_url: str, model_name: str, register: Register, tmp_path: Path
) -> None:
    version = register(**{"eval.safety.pii_free": 0.9, "eval_loss": 1.0})
    env = {
        "MLFLOW_TRACKING_URI": mlflow_url,
        "MODEL": model_name,
        "VERSION": version,
        "ALIAS": "challenger",
        "REASON": "workflow test",
    }
    code, output = _run_step(
        "Promote behind the gates", tmp_path, GATES="eval.safety.pii_free==1;eval_loss<=2", **env
    )
    assert code == 3, output
    assert "::error::a gate refused" in output
    verdict = orjson.loads((tmp_path / "promotion.json").read_bytes())
    assert verdict["promoted"] is False
    assert [g["passed"] for g in verdict["gates"]] == [False, True]
    assert f"### {model_name} version {version} -> @challenger" in output

    code, output = _run_step("Promote behind the gates", tmp_path, GATES="eval_loss<=2", **env)
    assert code == 0, output
    assert orjson.loads((tmp_path / "promotion.json").read_bytes())["promoted"] is True
