"""The ``lora-sft`` recipe on Ray Train: the same worker function under ``TorchTrainer``.

Every worker runs :func:`llmops.training.session.run` with its rank and the world
size: each takes its slice of every global batch, DDP (set up by
``prepare_model``: gloo on CPUs, NCCL on GPUs) averages the gradients, and the
first worker logs per-step metrics to the MLflow run, writes the checkpoints and
saves the adapter in the job's output directory (on several machines that
directory must be shared storage, as Ray Train's own storage is).
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import ray
from ray.train import RunConfig, ScalingConfig
from ray.train.torch import TorchTrainer, prepare_model

from llmops.registry.store import ModelRegistry
from llmops.registry.tracking import RunLog
from llmops.training import session
from llmops.training.errors import TrainingError
from llmops.training.loop import Shard, TrainResult

RAY_ENV = {"RAY_AUTH_MODE": "disabled", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
"""What a locally started Ray needs in the environment (the entry point applies it):
no token auth for a single-user Ray, and no model hub for the workers."""


def _worker(config: dict[str, Any]) -> None:
    """The train loop of each Ray Train worker."""
    context = ray.train.get_context()
    shard = Shard(context.get_world_rank(), context.get_world_size())
    job: session.TrainingJob = config["job"]
    run_log = RunLog(ModelRegistry(config["tracking_uri"]), config["run_id"])
    result = session.run(
        job,
        shard=shard,
        on_step=lambda step, metrics: run_log.log_metrics(metrics, step),
        wrap=lambda model: prepare_model(model, parallel_strategy="ddp"),
    )
    ray.train.report({"steps": result.steps, "resumed_from": result.resumed_from})


def train_on_ray(
    job: session.TrainingJob,
    *,
    workers: int,
    use_gpu: bool,
    address: str | None,
    tracking_uri: str,
    run_id: str,
) -> TrainResult:
    """Train ``job`` with ``workers`` Ray Train workers; starts a local Ray if none is given."""
    started = False
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, logging_level=logging.WARNING)
        started = True
    try:
        trainer = TorchTrainer(
            _worker,
            train_loop_config={"job": job, "tracking_uri": tracking_uri, "run_id": run_id},
            scaling_config=ScalingConfig(
                num_workers=workers,
                use_gpu=use_gpu,
                resources_per_worker=None if use_gpu else {"CPU": 1},
            ),
            run_config=RunConfig(
                name=f"lora-sft-{run_id}", storage_path=str((job.output / "ray").resolve())
            ),
        )
        try:
            outcome = trainer.fit()
        except Exception as e:
            raise TrainingError(f"Ray Train failed: {e}") from e
        if outcome.error is not None:
            raise TrainingError(f"Ray Train failed: {outcome.error}")
        reported = outcome.metrics or {}
        return TrainResult(
            steps=int(reported.get("steps", job.recipe.total_steps(len(job.examples)))),
            resumed_from=int(reported.get("resumed_from", 0)),
        )
    finally:
        if started:
            with contextlib.suppress(Exception):
                ray.shutdown()
