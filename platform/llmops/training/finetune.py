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
from typing import Any

from llmops.registry import materialize
from llmops.registry.store import DATA_FILES_TAG, ModelRegistry
from llmops.registry.tracking import RunLog
from llmops.training import dataset as datasets
from llmops.training import preferences, session
from llmops.training.checkpoints import Checkpoints
from llmops.training.encoding import encode, pad_id
from llmops.training.errors import DatasetError
from llmops.training.loop import TrainResult
from llmops.training.recipe import LoraDpoConfig, LoraSftConfig

Say = Callable[[str], None]
BASE_FIGURES = ("match", "eval_loss")
"""The base model's figures the answer repeats beside the fine-tuned one's."""
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


TrainingData = (
    tuple[datasets.Dataset, datasets.Dataset]
    | tuple[preferences.PreferenceSet, preferences.PreferenceSet]
)


def load_datasets(request: FinetuneRequest) -> TrainingData:
    """The training and held-out sets (conversations, or preference pairs for ``dpo``),
    validated (raises ``DatasetError`` naming lines)."""
    if isinstance(request.recipe, LoraDpoConfig):
        if request.workers:
            raise DatasetError("the dpo recipe trains in this process: leave out --workers")
        pairs = preferences.load(request.data)
        if request.eval_data is not None:
            return pairs, preferences.load([request.eval_data])
        return preferences.split_holdout(pairs)
    train_set = datasets.load(request.data)
    if request.eval_data is not None:
        return train_set, datasets.load([request.eval_data])
    return datasets.split_holdout(train_set)


@dataclass(frozen=True, slots=True)
class _Prepared:
    """What a recipe trains on and how it judges a model, in the recipe's terms."""

    examples: tuple[Any, ...]
    judge: Callable[[Any], dict[str, float]]
    """The model's held-out figures (the fine-tuned one's are tagged on the version)."""
    lineage: dict[str, str]
    """Tags of what it learned from, beyond the data files and the base."""


def _prepare(request: FinetuneRequest, data: TrainingData, tokenizer: Any, pad: int) -> _Prepared:
    recipe = request.recipe
    train_set, eval_set = data
    if isinstance(recipe, LoraDpoConfig):
        from llmops.training import dpo  # noqa: PLC0415 - torch

        assert isinstance(train_set, preferences.PreferenceSet)
        assert isinstance(eval_set, preferences.PreferenceSet)
        held = dpo.encode_pairs(tokenizer, eval_set.pairs, recipe.max_seq_len)
        return _Prepared(
            tuple(dpo.encode_pairs(tokenizer, train_set.pairs, recipe.max_seq_len)),
            lambda model: dpo.figures(
                model, held, pad_id=pad, beta=recipe.beta, batch_size=recipe.batch_size
            ).metrics(),
            {"pairs_count": str(len(train_set)), "pairs_sha256": train_set.sha256},
        )
    from llmops.training.evaluate import evaluate  # noqa: PLC0415 - torch

    assert isinstance(train_set, datasets.Dataset) and isinstance(eval_set, datasets.Dataset)
    held_out = encode(tokenizer, eval_set.rows, recipe.max_seq_len)
    return _Prepared(
        tuple(encode(tokenizer, train_set.rows, recipe.max_seq_len)),
        lambda model: evaluate(
            model, tokenizer, eval_set.rows, held_out, batch_size=recipe.batch_size
        ).metrics(),
        {},
    )


def _run_log(request: FinetuneRequest, registry: ModelRegistry, say: Say) -> RunLog:
    state = request.output / RUN_FILE
    if request.resume and state.is_file():
        run_id = json.loads(state.read_text())["run_id"]
        say(f"resuming MLflow run {run_id}")
        return RunLog.resume(registry, run_id)
    name = request.recipe.name
    run = RunLog.start(
        registry, request.register, run_name=f"{request.register}-{name}", tags={"recipe": name}
    )
    request.output.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps({"run_id": run.run_id}))
    return run


def _limit_threads(threads: int | None) -> None:
    if threads:
        import torch  # noqa: PLC0415 - heavy

        torch.set_num_threads(threads)


def _train(
    job: session.TrainingJob,
    request: FinetuneRequest,
    registry: ModelRegistry,
    run: RunLog,
    say: Say,
) -> TrainResult:
    """The job's training, here or on Ray Train, its steps logged to the run."""
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
    return result


def finetune(
    request: FinetuneRequest, *, registry: ModelRegistry, cache_dir: Path, say: Say
) -> FinetuneResult:
    """Fine-tune ``request.base`` on the data and register the adapter as a new version."""
    data = load_datasets(request)
    train_set, eval_set = data
    what = "preference pairs" if isinstance(request.recipe, LoraDpoConfig) else "training rows"
    say(f"dataset: {len(train_set)} {what}, {len(eval_set)} held out ({train_set.sha256[:12]})")
    say(f"resolving the base model {request.base} ...")
    base = materialize.resolve(request.base, cache_dir=cache_dir, registry=registry)

    # Heavy imports only once the inputs are known to be good.
    from peft import PeftModel  # noqa: PLC0415

    from llmops.serving import weights  # noqa: PLC0415

    _limit_threads(request.threads)
    model, tokenizer = weights.load(base.path, dtype="float32")
    pad = pad_id(tokenizer)
    recipe = request.recipe
    prepared = _prepare(request, data, tokenizer, pad)
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
            **prepared.lineage,
        }
        if base.parent_version is not None:
            lineage["parent_version"] = base.parent_version
        run.set_tags(lineage)
        run.log_params({**recipe.params(), "base": base.base, "workers": str(request.workers)})
        say("evaluating the base model ...")
        if isinstance(recipe, LoraDpoConfig):
            before: dict[str, float] = {}  # the reference is the base: its margin is 0
        else:
            before = prepared.judge(model)
            run.log_metrics({f"base_{k}": v for k, v in before.items()}, step=0)
        job = session.TrainingJob(
            base.path,
            prepared.examples,
            recipe,
            request.output,
            request.resume,
            pad,
            threads=request.threads,
        )
        result = _train(job, request, registry, run, say)
        adapter_dir = request.output / session.ADAPTER_DIR
        tuned = PeftModel.from_pretrained(model, str(adapter_dir))
        say("evaluating the fine-tuned model ...")
        after = prepared.judge(tuned)
        metrics = {**after, **{f"base_{k}": v for k, v in before.items() if k in BASE_FIGURES}}
        run.log_metrics(after, step=result.steps)
        adapter_uri = run.log_adapter(adapter_dir)
        tags = {
            **{k: repr(float(v)) for k, v in after.items()},
            **lineage,
            "run_id": run.run_id,
            "recipe": recipe.name,
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
    )
