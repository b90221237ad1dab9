"""``llmops finetune run``: LoRA fine-tuning of a base model, registered as a new version.

Exit codes: 0 registered, 2 usage error or invalid dataset (the message names the
lines), 1 any other failure. Progress goes to stderr; ``--json`` prints one object
on stdout at the end.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from llmops.cli.common import config_option, json_option, print_json
from llmops.cli.models import open_registry, tracking_uri_option
from llmops.errors import LlmopsError
from llmops.serving.settings import default_cache_dir, parse_source
from llmops.training.errors import DatasetError
from llmops.training.recipe import RECIPES

DEFAULT_OUTPUT = Path(".llmops") / "finetune"


def _say(text: str) -> None:
    click.echo(text, err=True)


def _check_base(value: str) -> str:
    try:
        parse_source(value)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--base") from e
    return value


@click.group()
def finetune() -> None:
    """Fine-tune models and register the results."""


@finetune.command()
@click.option(
    "--base",
    default="bundled:smollm2",
    show_default=True,
    help="Base model: bundled:smollm2, a model directory, models:/NAME@ALIAS or models:/NAME/N.",
)
@click.option(
    "--data",
    "data",
    multiple=True,
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help='Chat JSONL ({"messages": [...]} per line), or preference pairs for --recipe dpo '
    '({"prompt" or "messages", "chosen", "rejected"}); repeat to concatenate files.',
)
@click.option(
    "--recipe",
    type=click.Choice(RECIPES),
    default=RECIPES[0],
    show_default=True,
    help="lora-sft: learn the answers; dpo: prefer the chosen answers to the rejected ones.",
)
@click.option(
    "--beta", type=click.FloatRange(min=0, min_open=True), default=0.1, show_default=True,
    help="dpo: how close to the base model the tuned one stays (higher: closer).",
)  # fmt: skip
@click.option("--register", "register", required=True, help="Registered model name for the result.")
@click.option(
    "--eval",
    "eval_data",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Held-out chat JSONL with expected answers (default: every 10th training row).",
)
@click.option(
    "--max-steps", type=click.IntRange(min=1), help="Stop after N steps (overrides --epochs)."
)
@click.option(
    "--epochs", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True
)
@click.option(
    "--learning-rate", type=click.FloatRange(min=0, min_open=True), default=2e-4, show_default=True
)
@click.option("--batch-size", type=click.IntRange(min=1), default=4, show_default=True)
@click.option("--max-seq-len", type=click.IntRange(min=8), default=512, show_default=True)
@click.option("--lora-r", type=click.IntRange(min=1), default=8, show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option(
    "--checkpoint-every", type=click.IntRange(min=1), default=10, show_default=True,
    help="Steps between checkpoints.",
)  # fmt: skip
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Checkpoints and the adapter (default: .llmops/finetune/NAME).",
)
@click.option("--resume", is_flag=True, help="Continue from the newest checkpoint in --output.")
@click.option(
    "--workers", type=click.IntRange(min=0), default=0, show_default=True,
    help="Train on Ray Train with N workers (0: in this process).",
)  # fmt: skip
@click.option(
    "--threads", type=click.IntRange(min=1),
    help="torch threads per process (default: every core; fewer on a shared machine).",
)  # fmt: skip
@click.option("--gpu", "use_gpu", is_flag=True, help="Give each Ray Train worker a GPU.")
@click.option("--ray-address", help="An existing Ray cluster for --workers (default: a local Ray).")
@click.option(
    "--cache-dir", type=click.Path(file_okay=False, path_type=Path),
    help="Converted and merged model weights (default: ~/.cache/llmops/models).",
)  # fmt: skip
@tracking_uri_option
@config_option
@json_option
def run(
    base: str,
    data: tuple[Path, ...],
    recipe: str,
    beta: float,
    register: str,
    eval_data: Path | None,
    max_steps: int | None,
    epochs: float,
    learning_rate: float,
    batch_size: int,
    max_seq_len: int,
    lora_r: int,
    seed: int,
    checkpoint_every: int,
    output: Path | None,
    resume: bool,
    workers: int,
    threads: int | None,
    use_gpu: bool,
    ray_address: str | None,
    cache_dir: Path | None,
    tracking_uri: str | None,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """Fine-tune BASE with LoRA (supervised, or DPO on preference pairs) and register the
    adapter as NAME's next version."""
    _check_base(base)
    registry = open_registry(config_path, tracking_uri)
    from llmops.training.finetune import FinetuneRequest, finetune, load_datasets
    from llmops.training.recipe import DPO, LoraDpoConfig, LoraSftConfig

    hyperparameters = {
        "learning_rate": learning_rate,
        "batch_size": batch_size,
        "max_seq_len": max_seq_len,
        "epochs": epochs,
        "max_steps": max_steps,
        "lora_r": lora_r,
        "seed": seed,
        "checkpoint_every": checkpoint_every,
    }
    config = (
        LoraDpoConfig(beta=beta, **hyperparameters)  # type: ignore[arg-type]
        if recipe == DPO
        else LoraSftConfig(**hyperparameters)  # type: ignore[arg-type]
    )
    request = FinetuneRequest(
        base=base,
        data=data,
        register=register,
        output=output or DEFAULT_OUTPUT / register,
        eval_data=eval_data,
        resume=resume,
        recipe=config,
        workers=workers,
        use_gpu=use_gpu,
        ray_address=ray_address,
        threads=threads,
    )
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # every model is on local disk
    if workers:
        from llmops.training.distributed import RAY_ENV

        for key, value in RAY_ENV.items():
            os.environ.setdefault(key, value)
    try:
        load_datasets(request)  # before anything slow: a bad line is a usage error
        result = finetune(
            request, registry=registry, cache_dir=cache_dir or default_cache_dir(), say=_say
        )
    except DatasetError as e:
        raise click.UsageError(str(e)) from e
    except LlmopsError as e:
        raise click.ClickException(str(e)) from e
    if as_json:
        print_json(result.to_json())
        return
    metrics = " ".join(f"{k}={v:.4g}" for k, v in result.metrics.items())
    click.echo(
        f"registered {result.model} version {result.version} (run {result.run_id}): {metrics}"
    )
