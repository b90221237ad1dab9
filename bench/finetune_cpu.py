"""Fine-tuning on this machine's CPU: seconds per step of the lora-sft recipe on the bundled
SmolLM2-135M, at sequence 64 and 128 (batch 4, r=8 on q/k/v/o), the adapter's size, and the
ratio of a LoRA step to a full fine-tuning step of the same model measured in the same run.

    python bench/finetune_cpu.py [--steps 6]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from llmops.serving import weights
from llmops.serving.settings import BundledSource, default_cache_dir
from llmops.training.encoding import Example, collate
from llmops.training.recipe import LoraSftConfig, with_lora


def _batch(seq: int, vocab: int) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    rows = [
        Example(ids := torch.randint(0, vocab, (seq,), generator=generator).tolist(), list(ids))
        for _ in range(4)
    ]
    return collate(rows, pad_id=0)


def _seconds_per_step(model: torch.nn.Module, batch: dict[str, torch.Tensor], steps: int) -> float:
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-4)
    times = []
    for _ in range(steps + 1):  # the first step warms up allocators and kernels
        started = time.perf_counter()
        model(**batch).loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6)
    args = parser.parse_args()
    path = weights.model_dir(BundledSource("smollm2"), default_cache_dir())
    print(f"torch threads: {torch.get_num_threads()}")
    results: dict[str, float] = {}
    for seq in (64, 128):
        model, _ = weights.load(path, dtype="float32")
        lora = with_lora(model, LoraSftConfig())
        vocab = int(model.config.vocab_size)
        results[f"lora-{seq}"] = _seconds_per_step(lora, _batch(seq, vocab), args.steps)
        print(f"lora-sft  batch 4, seq {seq:3d}: {results[f'lora-{seq}']:.2f} s/step")
        if seq == 64:
            with tempfile.TemporaryDirectory() as out:
                lora.save_pretrained(out)
                size = sum(f.stat().st_size for f in Path(out).iterdir())
            trainable = sum(p.numel() for p in lora.parameters() if p.requires_grad)
            print(f"adapter: {trainable:,} trainable parameters, {size / 1e6:.1f} MB on disk")
    full, _ = weights.load(path, dtype="float32")
    full.train()
    results["full-64"] = _seconds_per_step(
        full, _batch(64, int(full.config.vocab_size)), args.steps
    )
    print(f"full fine-tuning batch 4, seq  64: {results['full-64']:.2f} s/step")
    print(f"ratio lora/full at seq 64: {results['lora-64'] / results['full-64']:.2f}")
    print(f"ratio seq128/seq64 (lora): {results['lora-128'] / results['lora-64']:.2f}")


if __name__ == "__main__":
    main()
