"""``llmops finetune run`` as a function: validate, train, evaluate, log, register.

The order matters to users: the datasets are validated first (a bad line costs no
model load), then the base is resolved, then training runs with checkpoints in
``output/checkpoints``. The MLflow run's id is kept in ``output/run.json``, so a
resumed fine-tune continues the same run. Training runs in this process, or on Ray
Train when ``workers`` is set (:mod:`llmops.training.distributed`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from llmops.registry import materialize
from llmops.registry.store import DATA_FILES_TAG, ModelRegistry
from llmops.registry.tracking import RunLog
from llmops.training import dataset as datasets
from llmops.training import session
from llmops.training.checkpoints import Checkpoints
from llmops.training.encoding import encode, pad_id
from llmops.training.recipe import RECIPE, LoraSftConfig

Say = Callable[[str], None]
RUN_FILE = "run.json"


@dataclass(frozen=True, slots=True)
class FinetuneRequest:
    base: str
    data: tuple[Path, ...]
    register: str
    output: Path
    eval_data: Path | None = None
    resume: bool = False
    recipe: LoraSftConfig = field(default_factory=LoraSftConfig)
    workers: int = 0
    """0: train in this process; N: on Ray Train with N workers."""
    use_gpu: bool = False
    ray_address: str | None = None
    threads: int | None = None
    """torch threads per process; default: torch's (every core)."""


@dataclass(frozen=True, slots=True)
class FinetuneResult:
    run_id: str
    model: str
    version: str
    base: str
    dataset_sha256: str
    dataset_rows: int
    metrics: dict[str, float]
    adapter_uri: str
    resumed_from: int = 0
    answers: tuple[str, ...] = field(default=(), repr=False)

    def to_json(self) -> dict[str, object]:
        return {
            "run_id": self.run_id,
            "model": self.model,
            "version": self.version,
            "base": self.base,
            "dataset_sha256": self.dataset_sha256,
            "dataset_rows": self.dataset_rows,
            "metrics": self.metrics,
            "adapter_uri": self.adapter_uri,
            "resumed_from": self.resumed_from,
        }


def load_datasets(request: FinetuneRequest) -> tuple[datasets.Dataset, datasets.Dataset]:
    """The training and held-out sets, validated (raises ``DatasetError`` naming lines)."""
    train_set = datasets.load(request.data)
    if request.eval_data is not None:
        return train_set, datasets.load([request.eval_data])
    return datasets.split_holdout(train_set)


def _run_log(request: FinetuneRequest, registry: ModelRegistry, say: Say) -> RunLog:
    state = request.output / RUN_FILE
    if request.resume and state.is_file():
        run_id = json.loads(state.read_text())["run_id"]
        say(f"resuming MLflow run {run_id}")
        return RunLog.resume(registry, run_id)
    run = RunLog.start(
        registry, request.register, run_name=f"{request.register}-{RECIPE}", tags={"recipe": RECIPE}
    )
    request.output.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps({"run_id": run.run_id}))
    return run


def _limit_threads(threads: int | None) -> None:
    if threads:
        import torch  # noqa: PLC0415 - heavy

        torch.set_num_threads(threads)


def finetune(
    request: FinetuneRequest, *, registry: ModelRegistry, cache_dir: Path, say: Say
) -> FinetuneResult:
    """Fine-tune ``request.base`` on the data and register the adapter as a new version."""
    train_set, eval_set = load_datasets(request)
    say(
        f"dataset: {len(train_set)} training rows, {len(eval_set)} held out ({train_set.sha256[:12]})"
    )
    say(f"resolving the base model {request.base} ...")
    base = materialize.resolve(request.base, cache_dir=cache_dir, registry=registry)

    # Heavy imports only once the inputs are known to be good.
    from llmops.serving import weights  # noqa: PLC0415
    from llmops.training.evaluate import evaluate  # noqa: PLC0415

    _limit_threads(request.threads)
    model, tokenizer = weights.load(base.path, dtype="float32")
    pad = pad_id(tokenizer)
    recipe = request.recipe
    examples = encode(tokenizer, train_set.rows, recipe.max_seq_len)
    eval_examples = encode(tokenizer, eval_set.rows, recipe.max_seq_len)
    if not request.resume:
        cleared = Checkpoints(request.output / session.CHECKPOINT_DIR).clear()
        if cleared:
            say(f"starting afresh: removed {cleared} old checkpoints (pass --resume to continue)")
    run = _run_log(request, registry, say)
    try:
        lineage = {
            "dataset_sha256": train_set.sha256,
            "dataset_rows": str(len(train_set)),
            "eval_rows": str(len(eval_set)),
            "base": base.base,
            DATA_FILES_TAG: json.dumps([p.name for p in request.data]),
        }
        if base.parent_version is not None:
            lineage["parent_version"] = base.parent_version
        run.set_tags(lineage)
        run.log_params({**recipe.params(), "base": base.base, "workers": str(request.workers)})
        say("evaluating the base model ...")
        before = evaluate(
            model, tokenizer, eval_set.rows, eval_examples, batch_size=recipe.batch_size
        )
        run.log_metrics({f"base_{k}": v for k, v in before.metrics().items()}, step=0)
        job = session.TrainingJob(
            base.path,
            tuple(examples),
            recipe,
            request.output,
            request.resume,
            pad,
            threads=request.threads,
        )
        if request.workers:
            from llmops.training import distributed  # noqa: PLC0415 - Ray only when asked

            result = distributed.train_on_ray(
                job,
                workers=request.workers,
                use_gpu=request.use_gpu,
                address=request.ray_address,
                tracking_uri=registry.tracking_uri,
                run_id=run.run_id,
            )
        else:
            result = session.run(job, on_step=lambda step, m: run.log_metrics(m, step))
        if result.resumed_from:
            say(f"resumed from the checkpoint at step {result.resumed_from}")
        from peft import PeftModel  # noqa: PLC0415

        adapter_dir = request.output / session.ADAPTER_DIR
        tuned = PeftModel.from_pretrained(model, str(adapter_dir))
        say("evaluating the fine-tuned model ...")
        after = evaluate(
            tuned, tokenizer, eval_set.rows, eval_examples, batch_size=recipe.batch_size
        )
        metrics = {
            **after.metrics(),
            "base_match": before.match,
            "base_eval_loss": before.eval_loss,
        }
        run.log_metrics(after.metrics(), step=result.steps)
        adapter_uri = run.log_adapter(adapter_dir)
        tags = {
            **{k: repr(float(v)) for k, v in after.metrics().items()},
            **lineage,
            "run_id": run.run_id,
            "recipe": RECIPE,
        }
        version = registry.register(request.register, run_id=run.run_id, tags=tags)
    except BaseException:
        run.finish(failed=True)
        raise
    run.finish()
    return FinetuneResult(
        run_id=run.run_id,
        model=request.register,
        version=version.version,
        base=base.base,
        dataset_sha256=train_set.sha256,
        dataset_rows=len(train_set),
        metrics=metrics,
        adapter_uri=adapter_uri,
        resumed_from=result.resumed_from,
        answers=after.answers,
    )
