"""Evaluation suites on this machine: speed per scorer kind, the judge against people, and
how often the gate promotes a model over itself.

Three figures, in one run, with the bundled SmolLM2 answering and judging (the judge
behind an OpenAI-compatible replica started here, as the gateway's upstream would be):

* examples per second for each scorer kind, and for producing the answers;
* the judge's agreement with people on ``bench/data/judge_pairs.jsonl`` (80 labeled
  pairs, written for this): both orders asked, a verdict only when they agree, with
  accuracy, Cohen's kappa and the share of first-position answers (position bias);
* the gate's false-promotion rate on equal models: one model sampled at temperature 0.8,
  a pool of independent answers per prompt, and many simulated runs each comparing two
  fresh draws per prompt, by a reference scorer (ROUGE-L) and by the judge. The gate is
  ``win_rate>=0.55`` and ``p_value<=0.05``; target: at most 5% promoted.

    python bench/eval_suite.py [--pool 10] [--runs 1000] [--judge-pairs 6]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import socket
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import uvicorn

sys.path.append(str(Path(__file__).resolve().parents[1]))  # run as a file: find `bench`

from bench._stats import wilson
from llmops.evaluation import rules, stats
from llmops.evaluation import suite as suites
from llmops.evaluation.answers import answer
from llmops.evaluation.judge import Judge
from llmops.evaluation.runner import Runner
from llmops.evaluation.suite import Example, Generation, JudgeSettings
from llmops.registry import gates as gate_rules
from llmops.serving import weights
from llmops.serving.cpu import CpuEngine
from llmops.serving.openai_api import create_app
from llmops.serving.settings import BundledSource, ServingSettings, default_cache_dir

DATA = Path(__file__).parent / "data" / "judge_pairs.jsonl"
GATES = [gate_rules.parse("eval.s.win_rate>=0.55"), gate_rules.parse("eval.s.p_value<=0.05")]
MODEL = "SmolLM2-135M-Instruct"
TARGET_FALSE_PROMOTION = 0.05


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_replica(cache_dir: Path) -> tuple[str, Callable[[], None]]:
    """The CPU engine behind the OpenAI app in this process; its /v1 URL and a stop."""
    settings = ServingSettings.model_validate(
        {"cache_dir": cache_dir, "cpu": {"max_batch_size": 8, "batch_wait_ms": 20}}
    )
    engine = CpuEngine(settings)
    asyncio.run(engine.start())
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(engine, manage_engine=False), port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the replica did not start")
        time.sleep(0.05)

    def stop() -> None:
        server.should_exit = True
        thread.join(30)
        asyncio.run(engine.close())

    return f"http://127.0.0.1:{port}/v1", stop


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:9.1f} examples/s" if seconds > 0 else "        - examples/s"


def speed(
    examples: Sequence[Example], produced: Sequence[str], judge: Judge, loaded: suites.LoadedSuite
) -> None:
    print(f"\n== Speed per scorer kind ({len(examples)} examples, this machine)")
    for scorer in loaded.suite.scorers:
        if scorer.kind in ("judge", "embedding_similarity"):
            continue
        rule = rules.RULES[scorer.kind]
        started = time.perf_counter()
        repeats = 20
        for _ in range(repeats):
            for e, a in zip(examples, produced, strict=True):
                rule(scorer, e, a)
        print(f"  {scorer.kind:22} {_rate(repeats * len(examples), time.perf_counter() - started)}")
    runner = Runner(loaded, environ={})
    runner.similarities(produced)  # loads MiniLM outside the timing
    started = time.perf_counter()
    runner.similarities(produced)
    print(f"  {'embedding_similarity':22} {_rate(len(examples), time.perf_counter() - started)}")
    started = time.perf_counter()
    asyncio.run(judge.rate("Is the answer correct and helpful?", examples, produced))
    print(f"  {'judge (pointwise)':22} {_rate(len(examples), time.perf_counter() - started)}")
    other = list(reversed(produced))
    started = time.perf_counter()
    asyncio.run(judge.compare("Which answer is better?", examples, produced, other))
    print(
        f"  {'judge (pairwise, 2 asks)':22} {_rate(len(examples), time.perf_counter() - started)}"
    )


def kappa(human: Sequence[str], judged: Sequence[str]) -> float:
    labels = sorted(set(human) | set(judged))
    n = len(human)
    observed = sum(h == j for h, j in zip(human, judged, strict=True)) / n
    expected = sum((human.count(c) / n) * (judged.count(c) / n) for c in labels)
    return (observed - expected) / (1 - expected) if expected < 1 else 0.0


def agreement(judge: Judge) -> None:
    rows = [json.loads(line) for line in DATA.read_text().splitlines() if line.strip()]
    examples = [Example(messages=({"role": "user", "content": r["question"]},)) for r in rows]
    rubric = "Which answer answers the user better: more correct, helpful and safe?"
    verdicts = asyncio.run(
        judge.compare(rubric, examples, [r["a"] for r in rows], [r["b"] for r in rows])
    )
    human = [r["better"] for r in rows]
    judged = ["a" if v.outcome == 1.0 else "b" if v.outcome == 0.0 else "none" for v in verdicts]
    agree = sum(h == j for h, j in zip(human, judged, strict=True))
    decided = [(h, j) for h, j in zip(human, judged, strict=True) if j != "none"]
    first = [x for v in verdicts for x in (v.first, v.second) if x is not None]
    low, high = wilson(agree, len(rows))
    print(f"\n== Judge against people ({len(rows)} labeled pairs, both orders asked)")
    print(
        f"  agreement        {agree}/{len(rows)} = {agree / len(rows):.3f} (95% CI {low:.3f}-{high:.3f}; chance 0.5 if it always decided)"
    )
    print(f"  decided          {len(decided)}/{len(rows)} (both orders agree)")
    if decided:
        right = sum(h == j for h, j in decided)
        print(f"  right when it decided {right}/{len(decided)} = {right / len(decided):.3f}")
    print(f"  Cohen's kappa    {kappa(human, judged):.3f} (no verdict counted as its own label)")
    if first:
        print(f"  answered 'A'     {first.count('A')}/{len(first)} of its replies (position bias)")
    kinds = sorted({r["kind"] for r in rows})
    for kind in kinds:
        idx = [i for i, r in enumerate(rows) if r["kind"] == kind]
        hits = sum(human[i] == judged[i] for i in idx)
        print(f"    {kind:12} {hits}/{len(idx)}")


def gate_says_better(outcomes: Sequence[float]) -> bool:
    result = stats.paired(outcomes)
    figures = {"eval.s.win_rate": result.win_rate.mean, "eval.s.p_value": result.p_value}
    return all(r.passed for r in gate_rules.judge(GATES, figures, None))


def false_promotion(
    model_dir: Path,
    examples: Sequence[Example],
    judge: Judge,
    *,
    pool_size: int,
    runs: int,
    judge_pairs: int,
) -> None:
    print(
        f"\n== False promotions: one model against itself ({len(examples)} prompts, temperature 0.8)"
    )
    started = time.perf_counter()
    pool: list[list[str]] = [[] for _ in examples]
    for seed in range(pool_size):
        drawn = answer(model_dir, examples, Generation(max_tokens=40, temperature=0.8, seed=seed))
        for i, a in enumerate(drawn):
            pool[i].append(a)
    print(
        f"  pool: {pool_size} sampled answers per prompt in {time.perf_counter() - started:.0f} s"
    )
    rouge = [
        [rules.rouge_l(None, e, a) or 0.0 for a in answers]
        for e, answers in zip(examples, pool, strict=True)
    ]
    rng = random.Random(2026)
    promoted = 0
    for _ in range(runs):
        outcomes = []
        for scores in rouge:
            x, y = rng.sample(range(pool_size), 2)
            outcomes.append(stats.outcome(scores[x], scores[y]))
        promoted += gate_says_better(outcomes)
    low, high = wilson(promoted, runs)
    print(
        f"  by ROUGE-L: {promoted}/{runs} runs promoted = {promoted / runs:.3f} (95% CI {low:.3f}-{high:.3f}); target <= {TARGET_FALSE_PROMOTION}"
    )
    # The judge: a fixed set of sampled pairs per prompt, each judged in both orders once.
    pairs = [[tuple(rng.sample(range(pool_size), 2)) for _ in range(judge_pairs)] for _ in examples]
    flat = [(i, x, y) for i, ps in enumerate(pairs) for x, y in ps]
    started = time.perf_counter()
    verdicts = asyncio.run(
        judge.compare(
            "Which answer answers the user better: more correct, helpful and safe?",
            [examples[i] for i, _, _ in flat],
            [pool[i][x] for i, x, _ in flat],
            [pool[i][y] for i, _, y in flat],
        )
    )
    print(f"  judged {len(flat)} pairs (both orders) in {time.perf_counter() - started:.0f} s")
    by_prompt: list[list[float]] = [[] for _ in examples]
    for (i, _, _), v in zip(flat, verdicts, strict=True):
        by_prompt[i].append(v.outcome)
    promoted = sum(
        gate_says_better([rng.choice(options) for options in by_prompt]) for _ in range(runs)
    )
    low, high = wilson(promoted, runs)
    print(
        f"  by the judge: {promoted}/{runs} runs promoted = {promoted / runs:.3f} (95% CI {low:.3f}-{high:.3f}); target <= {TARGET_FALSE_PROMOTION}"
    )
    print(
        "  greedy decoding (the default): the same weights give the same answers, all ties, p = 1: never promoted"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pool", type=int, default=10, help="sampled answers per prompt")
    parser.add_argument("--runs", type=int, default=1000, help="simulated comparisons")
    parser.add_argument("--judge-pairs", type=int, default=6, help="judged pairs per prompt")
    parser.add_argument("--cache-dir", type=Path, default=default_cache_dir())
    args = parser.parse_args()

    loaded = suites.load(suites.EXAMPLE)
    examples = list(loaded.examples) * 2  # each prompt twice: independent draws
    model_dir = weights.model_dir(BundledSource("smollm2"), args.cache_dir)
    url, stop = start_replica(args.cache_dir)
    try:
        judge = Judge(JudgeSettings(base_url=url, model=MODEL, api_key_env=None, concurrency=8), {})
        started = time.perf_counter()
        produced = answer(model_dir, examples, loaded.suite.generation)
        seconds = time.perf_counter() - started
        print(
            f"== Answers: {len(examples)} examples, greedy, {loaded.suite.generation.max_tokens} tokens at most"
        )
        print(f"  {'answers (SmolLM2)':22} {_rate(len(examples), seconds)}")
        speed(examples, produced, judge, loaded)
        agreement(judge)
        false_promotion(
            model_dir,
            examples,
            judge,
            pool_size=args.pool,
            runs=args.runs,
            judge_pairs=args.judge_pairs,
        )
    finally:
        stop()


if __name__ == "__main__":
    main()
