"""``llmops drift check|monitor``: drift of a deployment's traffic, once or periodically.

Exit codes of ``check``: 0 checked and no data drift (operational drift alone, which
never retrains, also exits 0: the JSON says ``"operational_drift": true``), 3 data
drift, 4 too few requests in a window to decide, 2 usage error, 1 any other failure
(the request log cannot be read).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from llmops.cli.common import config_option, json_option, print_json, run
from llmops.errors import LlmopsError

T = TypeVar("T")
DRIFT_DETECTED = 3
TOO_FEW_SAMPLES = 4
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
@click.option("--no-embeddings", is_flag=True, help="Skip the topic test (prompt embeddings).")
@click.option("--no-report", is_flag=True, help="Do not log the HTML report to MLflow.")
@click.option(
    "--reference",
    "reference_window",
    metavar="START..END",
    help="The reference window as absolute times (ISO 8601, UTC unless an offset is given), "
    "instead of the settings' reference_window before the current window.",
)
@click.option(
    "--feedback-since",
    metavar="TIME|all",
    help="Also count the feedback given on the deployment's answers since TIME (ISO 8601) "
    "or ever ('all'): the JSON's feedback.new (a DriftMonitor's feedback loop reads it).",
)
@click.option(
    "--current",
    "current_window",
    metavar="START..END",
    help="The current window as absolute times, instead of the last current_window.",
)
@config_option
@json_option
def check(
    deployment: str,
    database_url: str | None,
    export_path: Path | None,
    no_embeddings: bool,
    no_report: bool,
    reference_window: str | None,
    current_window: str | None,
    feedback_since: str | None,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """Compare the deployment's current window with its reference window, once.

    Data drift (what users send: lengths, language, refusals, topic) exits 3; operational
    drift (latency, errors, cache hits) is reported and exits 0; too few requests in a
    window to decide exits 4."""
    from llmops.monitoring import dataset
    from llmops.monitoring.checker import DriftChecker
    from llmops.monitoring.embeddings import MiniLMEmbedder
    from llmops.monitoring.feedback import count_since
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

    reference = _window(reference_window, "--reference")
    current = _window(current_window, "--current")
    since = _since(feedback_since)

    async def work() -> dict[str, object]:
        reader = RequestLogReader(engine_for(settings.database_url))
        try:
            checker = DriftChecker(
                reader,
                embedder=MiniLMEmbedder() if target.embeddings else None,
                reports=reports,
            )
            if sys.stderr.isatty():
                click.echo(f"Checking drift of {deployment} ...", err=True)
            outcome = await checker.check(
                target, datetime.now(UTC), reference=reference, current=current
            )
            given = None
            if feedback_since is not None:
                given = await count_since(reader.engine, target.gateway_model, since)
        finally:
            await reader.close()
        out = outcome.as_json()
        if given is not None:
            out["feedback"] = {"since": since.isoformat() if since else None, "new": given}
        if outcome.drifted and export_path is not None:
            rows = dataset.write_window(outcome.current_records, export_path, 100_000)
            out["retrain_data"] = [str(export_path)] if rows else []
        return out

    out = run(work())
    _show(out, as_json)
    if not out["enough_samples"]:
        sys.exit(TOO_FEW_SAMPLES)
    if out["drift_detected"]:
        sys.exit(DRIFT_DETECTED)


def _window(text: str | None, option: str) -> Any:
    """``START..END`` as a window of absolute times (naive times are UTC)."""
    from llmops.monitoring.reader import Window

    if text is None:
        return None
    start, sep, end = text.partition("..")
    if not sep:
        raise click.BadParameter(
            "expected START..END, e.g. 2026-12-01T00:00..2026-12-02", param_hint=option
        )
    try:
        times = [datetime.fromisoformat(t.strip()) for t in (start, end)]
    except ValueError as e:
        raise click.BadParameter(f"{e} (expected ISO 8601 times)", param_hint=option) from e
    times = [t.astimezone(UTC) if t.tzinfo else t.replace(tzinfo=UTC) for t in times]
    if times[0] >= times[1]:
        raise click.BadParameter("the window's start must come before its end", param_hint=option)
    return Window(times[0], times[1])


def _since(text: str | None) -> datetime | None:
    if text is None or text == "all":
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError as e:
        raise click.BadParameter(
            f"{e} (expected ISO 8601 or 'all')", param_hint="--feedback-since"
        ) from e
    return at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)


def _show(out: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(out)
        return
    windows = (
        f"reference {out['reference_window']['start']}..{out['reference_window']['end']} "
        f"({out['reference_rows']} requests), current {out['current_window']['start']}.."
        f"{out['current_window']['end']} ({out['current_rows']} requests)"
    )
    if not out["enough_samples"]:
        click.echo(
            f"{out['deployment']}: too few requests to decide: {windows}; "
            f"{out['min_samples']} needed in each."
        )
        return
    click.echo(f"{out['deployment']}: {windows}")
    for line in out["summary"]:
        click.echo(line)
    click.echo("Signals (p-value after no correction; drift needs it small and a large effect):")
    for f in out["features"]:
        if not f["tested"]:
            mark = f"not tested ({f['reference_rows']}/{f['current_rows']} rows)"
        else:
            mark = f"p {f['score']:.3g}, effect {f['effect']:.3g} (least {f['min_effect']:g})"
            mark += ", DRIFTED" if f["drifted"] else ""
        click.echo(f"  {f['kind']:<12} {f['feature']:<18} {mark}")
    if out["report_uri"]:
        click.echo(f"report: {out['report_uri']}")
    if "feedback" in out:
        since = out["feedback"]["since"] or "ever"
        click.echo(f"feedback since {since}: {out['feedback']['new']} items")


def _reading(database_url: str, act: Callable[[Any], Awaitable[T]]) -> T:
    """``act`` on a reader of the request log, closed after."""
    from llmops.monitoring.reader import RequestLogReader, engine_for

    async def work() -> T:
        reader = RequestLogReader(engine_for(database_url))
        try:
            return await act(reader)
        finally:
            await reader.close()

    return run(work())


def _with_registry(config_path: Path | None, database_url: str | None, deployment: str) -> Any:
    """The settings, the deployment's and the registry, for the judgements that move
    aliases."""
    from llmops.monitoring.settings import MonitorSettings
    from llmops.registry.store import ModelRegistry

    settings = _settings(config_path, database_url=database_url)
    assert isinstance(settings, MonitorSettings)
    if not settings.tracking_uri:
        raise click.UsageError(
            "no registry: set tracking_uri or LLMOPS_MLFLOW__TRACKING_URI (MLflow)"
        )
    return settings, settings.deployment(deployment), ModelRegistry(settings.tracking_uri)


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

    settings, target, registry = _with_registry(config_path, database_url, deployment)

    judgement = _reading(
        settings.database_url,
        lambda reader: registry_canary.judge(
            registry,
            reader,
            registered=registered or target.registry_name,
            gateway_model=target.gateway_model,
            rules=target.canary.rules(),
            now=datetime.now(UTC),
        ),
    )
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
@click.option("--deployment", required=True, help="The deployment (the gateway's model name).")
@click.option(
    "--model", "registered", help="The registered model (default: the deployment's setting)."
)
@click.option("--alias", default="shadow", show_default=True, help="The alias the shadow follows.")
@click.option("--database-url", help="The gateway's database (else the settings').")
@config_option
@json_option
def shadow(
    deployment: str,
    registered: str | None,
    alias: str,
    database_url: str | None,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """Judge the registry's @shadow on its mirrored requests once: after the soak, no worse
    than the primary, it becomes @challenger (the canary's); worse, it loses its alias."""
    from datetime import timedelta

    from llmops.monitoring import registry_shadow
    from llmops.monitoring.settings import FeedbackSettings

    settings, target, registry = _with_registry(config_path, database_url, deployment)
    rules = target.feedback or FeedbackSettings()

    judgement = _reading(
        settings.database_url,
        lambda reader: registry_shadow.judge(
            registry,
            reader,
            registered=registered or target.registry_name,
            gateway_model=target.gateway_model,
            alias=alias,
            rules=rules.shadow_rules(),
            soak=timedelta(seconds=rules.shadow_seconds),
            now=datetime.now(UTC),
        ),
    )
    if as_json:
        print_json(judgement.to_json())
        return
    click.echo(f"{judgement.model} @{alias}: {judgement.verdict} (version {judgement.version})")
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
