"""``llmops eval run``: a suite on a model version, compared with another, gated.

Exit codes, as ``llmops models promote``: 0 every gate passed, 3 a gate refused,
2 usage error or invalid suite, 1 any other failure.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from llmops.cli.common import config_option, json_option, print_json
from llmops.cli.models import GATE_REFUSED, open_registry, tracking_uri_option
from llmops.errors import LlmopsError
from llmops.evaluation import record, report
from llmops.evaluation import suite as suites
from llmops.evaluation.errors import SuiteError
from llmops.evaluation.runner import Advance, EvalResult, Runner
from llmops.registry import settings as registry_settings
from llmops.registry.errors import GateSyntaxError, RegistryUnavailable, VersionNotFound
from llmops.registry.materialize import ResolvedModel, resolve
from llmops.registry.store import ModelRegistry
from llmops.serving.settings import RegistrySource, default_cache_dir, parse_source


def _progress(what: str, total: int) -> Advance:
    """Progress on stderr: a line per tenth of the stage (CI logs stay short)."""
    state = {"done": 0, "shown": -1}
    step = max(1, total // 10)

    def advance(n: int) -> None:
        state["done"] += n
        done = state["done"]
        if done == total or done // step != state["shown"]:
            state["shown"] = done // step
            click.echo(f"  {what}: {done}/{total}", err=True)

    click.echo(f"{what} ...", err=True)
    return advance


def _is_registry_ref(ref: str) -> bool:
    try:
        return isinstance(parse_source(ref), RegistrySource)
    except ValueError:
        return False


def _registry(config_path: Path | None, flag: str | None, needed: bool) -> ModelRegistry | None:
    """The registry, or ``None`` when none is configured and no reference needs one."""
    if needed:
        return open_registry(config_path, flag)
    try:
        settings = registry_settings.load(config_path)
        return ModelRegistry(registry_settings.tracking_uri(flag, settings, os.environ))
    except RegistryUnavailable:
        return None


def _resolve_against(
    ref: str | None, cache_dir: Path, registry: ModelRegistry | None
) -> ResolvedModel | None:
    if ref is None:
        return None
    try:
        return resolve(ref, cache_dir=cache_dir, registry=registry)
    except VersionNotFound as e:
        source = parse_source(ref)
        if isinstance(source, RegistrySource) and source.alias is not None:
            click.echo(f"no comparison: {e} (the first version has nothing to beat)", err=True)
            return None
        raise


def _write(output: Path, result: EvalResult) -> None:
    output.mkdir(parents=True, exist_ok=True)
    (output / "report.md").write_text(report.markdown(result))
    (output / "results.json").write_text(json.dumps(report.to_json(result), indent=2))


def _summary(result: EvalResult) -> None:
    for name, s in result.candidate.scorers.items():
        e = s.estimate
        click.echo(f"{name}: {e.mean:.3f} (95% CI {e.low:.3f}-{e.high:.3f}, n={e.n})", err=True)
    if result.comparison is not None:
        r = result.comparison.result
        click.echo(
            f"win rate {r.win_rate.mean:.3f} (95% CI {r.win_rate.low:.3f}-{r.win_rate.high:.3f}), "
            f"{r.wins}/{r.losses}/{r.ties} wins/losses/ties, p = {r.p_value:.4g}",
            err=True,
        )
    for g in result.gates:
        verdict = "passed" if g.passed else "REFUSED"
        click.echo(
            f"gate {g.expression}: {verdict} (value {g.value:.6g}, threshold {g.threshold:.6g})",
            err=True,
        )


@click.group("eval")
def evaluate() -> None:
    """Evaluation suites: scorers, an LLM judge and paired statistics, as promotion gates."""


@evaluate.command()
@click.option("--model", "model_ref", required=True, help="models:/NAME@ALIAS, models:/NAME/N, …")
@click.option("--against", "against_ref", help="The model to compare with (models:/NAME@champion).")
@click.option(
    "--suite",
    "suite_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The suite's YAML file.",
)
@click.option("--gate", "gates", multiple=True, help="A gate on the result, beside the suite's.")
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Also write report.md and results.json here.",
)
@click.option("--judge-url", help="The judge's OpenAI-compatible base URL, instead of the suite's.")
@click.option("--judge-model", help="The judge's model, instead of the suite's.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--threads", type=click.IntRange(min=1), help="torch threads for the answers.")
@tracking_uri_option
@config_option
@json_option
@click.pass_context
def run(
    ctx: click.Context,
    model_ref: str,
    against_ref: str | None,
    suite_path: Path,
    gates: tuple[str, ...],
    output: Path | None,
    judge_url: str | None,
    judge_model: str | None,
    cache_dir: Path | None,
    threads: int | None,
    tracking_uri: str | None,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """Answer SUITE with --model (and --against), score, compare, and judge the gates
    (exit 3 if one refuses). Logs to MLflow and tags the version when it is registered."""
    try:
        loaded = suites.with_judge(suites.load(suite_path), judge_url, judge_model)
    except SuiteError as e:
        raise click.UsageError(str(e)) from e
    needed = _is_registry_ref(model_ref) or (
        against_ref is not None and _is_registry_ref(against_ref)
    )
    registry = _registry(config_path, tracking_uri, needed)
    cache = cache_dir or default_cache_dir()
    try:
        candidate = resolve(model_ref, cache_dir=cache, registry=registry)
        against = _resolve_against(against_ref, cache, registry)
        runner = Runner(loaded, environ=os.environ, progress=_progress, threads=threads)
        result = runner.run(
            (model_ref, candidate),
            (against_ref or "", against) if against is not None else None,
            gates,
        )
        if output is not None:
            _write(output, result)
        if registry is not None:
            run_id = record.record(registry, result, candidate)
            click.echo(f"logged to MLflow run {run_id} ({registry.tracking_uri})", err=True)
        else:
            click.echo("no MLflow tracking URI: the result was not logged", err=True)
    except GateSyntaxError as e:
        raise click.UsageError(str(e)) from e
    except LlmopsError as e:
        raise click.ClickException(str(e)) from e
    _summary(result)
    if as_json:
        print_json(report.to_json(result))
    if not result.passed:
        ctx.exit(GATE_REFUSED)
