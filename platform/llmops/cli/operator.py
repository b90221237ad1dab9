"""``llmops operator``: run the Kubernetes operator, check custom resources offline."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import click
import yaml

from llmops.cli.common import config_option, json_option, print_json
from llmops.errors import LlmopsError


@click.group()
def operator() -> None:
    """The Kubernetes operator (ModelDeployment, FineTuneJob, DriftMonitor)."""


@operator.command()
@config_option
@click.option("--namespace", help="Watch this namespace only (default: all namespaces).")
@click.option("--verbose", is_flag=True, help="Log every handler's progress.")
def run(config_path: Path | None, namespace: str | None, verbose: bool) -> None:
    """Run the operator until interrupted (in the cluster, or with the kubeconfig)."""
    from operators import config as operator_config
    from operators import main

    try:
        config = operator_config.load(config_path, namespace=namespace)
    except LlmopsError as e:
        raise click.ClickException(str(e)) from e
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    pools = ", ".join(f"{p.name} ({p.gpu_type})" for p in config.node_pools) or "none"
    click.echo(
        f"llmops operator: watching {namespace or 'all namespaces'}; node pools: {pools}; "
        f"Kueue {'on' if config.kueue.enabled else 'off'}",
        err=True,
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main.run(config))


@operator.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@json_option
def validate(files: tuple[Path, ...], as_json: bool) -> None:
    """Check ModelDeployment, FineTuneJob and DriftMonitor manifests against the CRDs.

    Exit code 0 when every document is valid, 2 when one is not."""
    from operators import schemas

    report = []
    for path in files:
        try:
            documents = [d for d in yaml.safe_load_all(path.read_text()) if d]
        except yaml.YAMLError as e:
            raise click.UsageError(f"{path} is not valid YAML: {e}") from e
        for index, document in enumerate(documents):
            name = (document.get("metadata") or {}).get("name", f"document {index + 1}")
            report.append(
                {
                    "file": str(path),
                    "kind": document.get("kind"),
                    "name": name,
                    "problems": schemas.problems(document),
                }
            )
    if as_json:
        print_json(report)
    else:
        for item in report:
            state = "ok" if not item["problems"] else "invalid"
            click.echo(f"{item['file']}: {item['kind']} {item['name']}: {state}")
            for problem in item["problems"]:
                click.echo(f"  - {problem}")
    if any(item["problems"] for item in report):
        raise SystemExit(2)
