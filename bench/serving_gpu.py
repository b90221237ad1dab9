"""Tokens per second of the vLLM engine: one stream against many, alone and behind the gateway.

The GPU twin of ``bench/serving_cpu.py``, for a machine with an NVIDIA GPU and the
``vllm`` extra installed (its own environment: vLLM pins its own torch). It starts
``llmops serve --standalone`` with ``engine: vllm`` on a local model directory
(safetensors; or ``bundled:smollm2``, converted once), the gateway in front of it,
and loads both at 1 and at N concurrent streams, printing the same table, the
aggregate(N)/single ratio and the gateway's added latency.

    python bench/serving_gpu.py --model-dir /models/llama-3.1-8b-instruct --model llama-3.1-8b \\
        [--streams 32] [--duration 60] [--max-tokens 256] [--gpu-memory-utilization 0.9]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.append(str(Path(__file__).resolve().parents[1]))  # run as a file: find `bench`

from bench import _services, serving_cpu


def start_vllm_replica(stack: _services.Stack, args: argparse.Namespace) -> str:
    """``llmops serve --standalone`` on vLLM, ready; its OpenAI base URL."""
    port = _services.free_port()
    settings = {
        "engine": "vllm",
        "model": args.model,
        "source": args.model_dir,
        "port": port,
        "vllm": {
            "tensor_parallel_size": args.tensor_parallel_size,
            "gpu_memory_utilization": args.gpu_memory_utilization,
        },
    }
    config = stack.workdir / "serve.yaml"
    config.write_text(yaml.safe_dump(settings))
    argv = [sys.executable, "-m", "llmops.cli", "serve", "--standalone", "--config", str(config)]
    print(
        f"starting vLLM with {args.model_dir} (loading and CUDA graphs take minutes) ...",
        flush=True,
    )
    service = stack.start("replica", argv, env={**_services.CLEAN_ENV, "HF_HUB_OFFLINE": "1"})
    url = f"http://127.0.0.1:{port}"
    service.wait_until(lambda: _services.http_get(f"{url}/healthz") == 200, timeout=1200)
    return f"{url}/v1"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model-dir", default="bundled:smollm2", help="model source (a directory)")
    parser.add_argument("--model", default=serving_cpu.MODEL, help="the model name clients send")
    parser.add_argument("--streams", type=int, default=32, help="concurrent streams, batched phase")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per phase")
    parser.add_argument("--max-tokens", type=int, default=256, help="completion tokens a request")
    parser.add_argument("--tensor-parallel-size", type=int, default=1)
    parser.add_argument("--gpu-memory-utilization", type=float, default=0.9)
    args = parser.parse_args(argv)
    with (
        tempfile.TemporaryDirectory(prefix="llmops-bench-") as tmp,
        _services.Stack(Path(tmp)) as stack,
    ):
        replica = start_vllm_replica(stack, args)
        gateway, key = serving_cpu.start_gateway(stack, replica, args.model)
        print("warming up ...", flush=True)
        asyncio.run(
            serving_cpu.load(
                "warmup", replica, "unused", streams=4, duration=5, max_tokens=16, model=args.model
            )
        )
        phases = serving_cpu.run_phases(replica, gateway, key, args, model=args.model)
        serving_cpu.report(phases, args.streams)


if __name__ == "__main__":
    main()
