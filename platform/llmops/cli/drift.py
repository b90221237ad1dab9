"""``llmops drift check|monitor``: drift of a deployment's traffic, once or periodically.

Exit codes of ``check``: 0 checked and no drift (also when a window has too few
requests to decide: the JSON says ``"enough_samples": false``), 3 drift detected,
2 usage error, 1 any other failure (the request log cannot be read).
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from llmops.cli.common import config_option, json_option, print_json, run
from llmops.errors import LlmopsError

DRIFT_DETECTED = 3
MLFLOW_ENVS = ("LLMOPS_MLFLOW__TRACKING_URI", "MLFLOW_TRACKING_URI")


def _settings(config_path: Path | None, **overrides: object) -> object:
    from llmops.monitoring import settings as monitor_settings

    try:
        loaded = monitor_settings.load(config_path, overrides=overrides)
    except LlmopsError as e:
        raise click.UsageError(str(e)) from e
    if loaded.tracking_uri is None:
        uri = next((os.environ[v] for v in MLFLOW_ENVS if os.environ.get(v)), None)
        loaded = loaded.model_copy(update={"tracking_uri": uri})
    return loaded


@click.group()
def drift() -> None:
    """Drift of a deployment's traffic (the gateway's request log)."""


@drift.command()
@click.option("--deployment", required=True, help="The deployment (the gateway's model name).")
@click.option("--database-url", help="The gateway's database (else the settings').")
@click.option(
    "--export",
    "export_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="On drift, write the current window's requests here as chat JSONL (for retraining).",
)
@click.option("--no-embeddings", is_flag=True, help="Skip the prompt-embedding comparison.")
@click.option("--no-report", is_flag=True, help="Do not log the HTML report to MLflow.")
@config_option
@json_option
def check(
    deployment: str,
    database_url: str | None,
    export_path: Path | None,
    no_embeddings: bool,
    no_report: bool,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """Compare the deployment's current window with its reference window, once."""
    from llmops.monitoring import dataset
    from llmops.monitoring.checker import DriftChecker
    from llmops.monitoring.embeddings import MiniLMEmbedder
    from llmops.monitoring.reader import RequestLogReader, engine_for
    from llmops.monitoring.reports import MlflowReports
    from llmops.monitoring.settings import MonitorSettings

    settings = _settings(config_path, database_url=database_url)
    assert isinstance(settings, MonitorSettings)
    target = settings.deployment(deployment)
    if no_embeddings:
        target = target.model_copy(update={"embeddings": False})
    reports = (
        MlflowReports(settings.tracking_uri, settings.experiment)
        if settings.tracking_uri and not no_report
        else None
    )

    async def work() -> dict[str, object]:
        reader = RequestLogReader(engine_for(settings.database_url))
        try:
            checker = DriftChecker(
                reader,
                embedder=MiniLMEmbedder() if target.embeddings else None,
                reports=reports,
            )
            click.echo(f"Checking drift of {deployment} ...", err=True)
            outcome = await checker.check(target, datetime.now(UTC))
        finally:
            await reader.close()
        out = outcome.as_json()
        if outcome.drifted and export_path is not None:
            rows = dataset.write_window(outcome.current_records, export_path, 100_000)
            out["retrain_data"] = [str(export_path)] if rows else []
        return out

    out = run(work())
    _show(out, as_json)
    if out["drift_detected"]:
        sys.exit(DRIFT_DETECTED)


def _show(out: dict[str, object], as_json: bool) -> None:
    if as_json:
        print_json(out)
        return
    if not out["enough_samples"]:
        click.echo(
            f"{out['deployment']}: too few requests to decide ({out['reference_rows']} in the "
            f"reference window, {out['current_rows']} in the current one; "
            f"{out['min_samples']} needed in each)."
        )
        return
    verdict = "DRIFT" if out["drift_detected"] else "no drift"
    click.echo(f"{out['deployment']}: {verdict}, drift share {out['drift_share']:.2f}")
    for f in out["features"]:  # type: ignore[attr-defined]
        mark = "drifted" if f["drifted"] else "ok"
        click.echo(f"  {f['feature']:<20} {f['score']:.4g}  ({f['method']}, {mark})")
    if out["report_uri"]:
        click.echo(f"report: {out['report_uri']}")


@drift.command()
@click.option("--deployment", required=True, help="The deployment (the gateway's model name).")
@click.option(
    "--model", "registered", help="The registered model (default: the deployment's setting)."
)
@click.option("--database-url", help="The gateway's database (else the settings').")
@config_option
@json_option
def canary(
    deployment: str,
    registered: str | None,
    database_url: str | None,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """Judge the registry's @challenger against @champion once: promote it after the
    soak, or take its alias away when it does worse (a ModelDeployment follows both)."""
    from llmops.monitoring import registry_canary
    from llmops.monitoring.reader import RequestLogReader, engine_for
    from llmops.monitoring.settings import MonitorSettings
    from llmops.registry.store import ModelRegistry

    settings = _settings(config_path, database_url=database_url)
    assert isinstance(settings, MonitorSettings)
    if not settings.tracking_uri:
        raise click.UsageError(
            "no registry: set tracking_uri or LLMOPS_MLFLOW__TRACKING_URI (MLflow)"
        )
    target = settings.deployment(deployment)
    registry = ModelRegistry(settings.tracking_uri)

    async def work() -> registry_canary.Judgement:
        reader = RequestLogReader(engine_for(settings.database_url))
        try:
            return await registry_canary.judge(
                registry,
                reader,
                registered=registered or target.registry_name,
                gateway_model=target.gateway_model,
                rules=target.canary.rules(),
                now=datetime.now(UTC),
            )
        finally:
            await reader.close()

    judgement = run(work())
    if as_json:
        print_json(judgement.to_json())
        return
    click.echo(
        f"{judgement.model}: {judgement.verdict} (challenger {judgement.challenger}, "
        f"champion {judgement.champion})"
    )
    for reason in judgement.reasons:
        click.echo(f"  {reason}")


@drift.command()
@config_option
@click.option("--metrics-port", type=int, default=None, help="Serve /metrics on this port.")
@click.option("--once", is_flag=True, help="One round of checks, then exit.")
def monitor(config_path: Path | None, metrics_port: int | None, once: bool) -> None:
    """Check every configured deployment each interval; retrain and canary on drift."""
    from llmops.monitoring import wiring
    from llmops.monitoring.settings import MonitorSettings

    settings = _settings(config_path)
    assert isinstance(settings, MonitorSettings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    run(wiring.run_monitor(settings, metrics_port=metrics_port, once=once))
