"""A suite run in MLflow: a tracking run with the figures and the report, and the figures
as tags on the registered version, where promotion gates read them.

The run lives in the experiment ``llmops-eval-NAME`` (``llmops-eval-local`` for a model
that is not a registered version). Its metrics are the candidate's figures; the other
model's carry the prefix ``against.``. Its artifacts: ``report.md`` (for people),
``results.json`` (for machines) and ``examples.json``, MLflow's table of every example.
The version is tagged ``eval.SUITE.METRIC`` for each figure, plus ``eval.SUITE.against``
(the version it was compared with), ``eval.SUITE.run_id`` and ``eval.SUITE.suite_sha256``.
"""

from __future__ import annotations

import json
import sys
from contextlib import redirect_stdout

from llmops.evaluation import report
from llmops.evaluation.runner import EvalResult
from llmops.registry.materialize import ResolvedModel
from llmops.registry.store import ModelRegistry
from llmops.registry.tracking import RunLog

EXPERIMENT_PREFIX = "llmops-eval-"
LOCAL = "local"


def version_tags(result: EvalResult, run_id: str) -> dict[str, str]:
    prefix = f"eval.{result.name}"
    tags = {k: repr(v) for k, v in result.metrics().items()}
    tags[f"{prefix}.run_id"] = run_id
    tags[f"{prefix}.suite_sha256"] = result.suite.sha256
    tags[f"{prefix}.against"] = result.against.resolved if result.against is not None else ""
    return tags


def record(registry: ModelRegistry, result: EvalResult, candidate: ResolvedModel) -> str:
    """Log ``result`` as a run and tag the candidate's version (when it is one); the run id."""
    owner = candidate.parent_model or LOCAL
    run = RunLog.start(
        registry,
        owner,
        run_name=f"{result.name} {result.candidate.resolved}",
        tags={"llmops.suite": result.name, "llmops.model": result.candidate.resolved},
        prefix=EXPERIMENT_PREFIX,
    )
    failed = True
    try:
        run.log_params(
            {
                "suite": result.name,
                "suite_sha256": result.suite.sha256,
                "examples": str(len(result.suite.examples)),
                "model": result.candidate.resolved,
                "against": result.against.resolved if result.against is not None else "",
                "generation": result.suite.suite.generation.model_dump_json(),
            }
        )
        figures = dict(result.metrics())
        figures.update({f"against.{k}": v for k, v in (result.against_metrics() or {}).items()})
        run.log_metrics(figures, step=0)
        run.log_text(report.markdown(result), "report.md")
        run.log_text(json.dumps(report.to_json(result), indent=2), "results.json")
        with redirect_stdout(sys.stderr):
            run.log_table(report.table(result), "examples.json")
        if candidate.parent_model is not None and candidate.parent_version is not None:
            registry.tag_version(
                candidate.parent_model,
                candidate.parent_version,
                version_tags(result, run.run_id),
            )
        failed = False
    finally:
        run.finish(failed=failed)
    return run.run_id
