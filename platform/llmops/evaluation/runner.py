"""One suite run: answers from the candidate (and the model it is compared with), every
scorer on both, the pairwise comparison, and the gates on the result.

Metric names are those a gate reads and a registered version is tagged with:
``eval.SUITE.SCORER`` (the mean, with ``.ci_low``, ``.ci_high`` and ``.n``),
``eval.SUITE.SCORER.delta`` (candidate minus the other model), ``eval.SUITE.win_rate``
(with its interval), ``eval.SUITE.p_value``, ``.wins``, ``.losses``, ``.ties`` and
``eval.SUITE.examples``.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from llmops.evaluation import answers as model_answers
from llmops.evaluation import rules, stats
from llmops.evaluation.judge import Judge, Verdict
from llmops.evaluation.suite import PAIRWISE_JUDGE, Example, LoadedSuite, Scorer
from llmops.registry import gates as gate_rules
from llmops.registry.materialize import ResolvedModel

Advance = Callable[[int], None]
Progress = Callable[[str, int], Advance]
"""``progress(what, total)`` starts a stage and returns the function that advances it."""

DEFAULT_PASS_AT = {"rouge_l": 0.5, "embedding_similarity": 0.7, "judge": 0.5}


def _quiet(_what: str, _total: int) -> Advance:
    return lambda _n: None


@dataclass(frozen=True, slots=True)
class ScorerResult:
    name: str
    kind: str
    scores: tuple[float | None, ...]
    estimate: stats.Estimate
    pass_at: float

    def passed(self, i: int) -> bool | None:
        score = self.scores[i]
        return None if score is None else score >= self.pass_at


@dataclass(frozen=True, slots=True)
class ModelResult:
    ref: str
    """As given on the command line."""
    resolved: str
    """What it was when evaluated: ``models:/NAME/N`` for a registered version."""
    answers: tuple[str, ...]
    scorers: Mapping[str, ScorerResult]
    seconds: float
    """Spent producing the answers."""


@dataclass(frozen=True, slots=True)
class Comparison:
    by: str
    outcomes: tuple[float | None, ...]
    """Per example: 1 the candidate won, 0 lost, 0.5 tie, ``None`` not compared."""
    result: stats.PairedResult
    verdicts: tuple[Verdict, ...] = ()


@dataclass(frozen=True, slots=True)
class EvalResult:
    suite: LoadedSuite
    candidate: ModelResult
    against: ModelResult | None
    comparison: Comparison | None
    gates: tuple[gate_rules.GateResult, ...] = ()
    judge_unparsed: int = 0
    seconds: Mapping[str, float] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.suite.suite.name

    @property
    def passed(self) -> bool:
        return all(g.passed for g in self.gates)

    def metrics(self) -> dict[str, float]:
        """The candidate's figures under their gate names."""
        found = _model_metrics(self.name, self.candidate)
        found[f"eval.{self.name}.examples"] = float(len(self.suite.examples))
        if self.against is not None:
            for scorer in self.candidate.scorers.values():
                other = self.against.scorers[scorer.name].estimate.mean
                delta = scorer.estimate.mean - other
                if math.isfinite(delta):
                    found[f"eval.{self.name}.{scorer.name}.delta"] = delta
        if self.comparison is not None:
            r = self.comparison.result
            prefix = f"eval.{self.name}"
            found.update(
                {
                    f"{prefix}.win_rate": r.win_rate.mean,
                    f"{prefix}.win_rate.ci_low": r.win_rate.low,
                    f"{prefix}.win_rate.ci_high": r.win_rate.high,
                    f"{prefix}.p_value": r.p_value,
                    f"{prefix}.wins": float(r.wins),
                    f"{prefix}.losses": float(r.losses),
                    f"{prefix}.ties": float(r.ties),
                }
            )
        return {k: v for k, v in found.items() if math.isfinite(v)}

    def against_metrics(self) -> dict[str, float] | None:
        if self.against is None:
            return None
        found = _model_metrics(self.name, self.against)
        return {k: v for k, v in found.items() if math.isfinite(v)}


def _model_metrics(suite: str, model: ModelResult) -> dict[str, float]:
    found: dict[str, float] = {}
    for scorer in model.scorers.values():
        key = f"eval.{suite}.{scorer.name}"
        e = scorer.estimate
        found.update({key: e.mean, f"{key}.ci_low": e.low, f"{key}.ci_high": e.high})
        found[f"{key}.n"] = float(e.n)
    return found


class Runner:
    """Runs one loaded suite; models answer here, the judge answers at its endpoint."""

    def __init__(
        self,
        loaded: LoadedSuite,
        *,
        environ: Mapping[str, str],
        progress: Progress = _quiet,
        threads: int | None = None,
    ) -> None:
        self.loaded = loaded
        self.suite = loaded.suite
        self.examples: Sequence[Example] = loaded.examples
        self.progress = progress
        self.threads = threads
        self.judge = Judge(self.suite.judge, environ) if self.suite.judge is not None else None
        self._embedder: object | None = None

    def run(
        self,
        candidate: tuple[str, ResolvedModel],
        against: tuple[str, ResolvedModel] | None = None,
        extra_gates: Sequence[str] = (),
    ) -> EvalResult:
        timings: dict[str, float] = {}
        ours = self._model(*candidate, timings)
        theirs = None
        if against is not None:
            same = against[1].path == candidate[1].path
            theirs = self._model(*against, timings, answers=ours.answers if same else None)
        comparison = self._compare(ours, theirs, timings) if theirs is not None else None
        result = EvalResult(
            self.loaded,
            ours,
            theirs,
            comparison,
            judge_unparsed=self.judge.unparsed if self.judge is not None else 0,
            seconds=timings,
        )
        expressions = [*self.suite.gates, *extra_gates]
        if not expressions:
            return result
        parsed = [gate_rules.parse(g) for g in expressions]
        verdicts = gate_rules.judge(parsed, result.metrics(), result.against_metrics())
        return replace(result, gates=tuple(verdicts))

    def _model(
        self,
        ref: str,
        resolved: ResolvedModel,
        timings: dict[str, float],
        *,
        answers: Sequence[str] | None = None,
    ) -> ModelResult:
        """Answers (``answers`` when the same weights answered already: the same decoding of
        the same weights gives the same answers) and every scorer on them."""
        started = time.perf_counter()
        produced = list(answers) if answers is not None else self._answers(resolved)
        answered = time.perf_counter() - started
        timings[f"answers {resolved.base}"] = answered
        scored = {s.name: self._score(s, produced, timings) for s in self.suite.scorers}
        return ModelResult(ref, resolved.base, tuple(produced), scored, answered)

    def _answers(self, resolved: ResolvedModel) -> list[str]:
        advance = self.progress(f"answers of {resolved.base}", len(self.examples))
        return model_answers.answer(
            resolved.path,
            self.examples,
            self.suite.generation,
            threads=self.threads,
            progress=advance,
        )

    def _score(
        self, scorer: Scorer, produced: Sequence[str], timings: dict[str, float]
    ) -> ScorerResult:
        started = time.perf_counter()
        if scorer.kind == "judge":
            assert self.judge is not None
            advance = self.progress(f"judge: {scorer.name}", len(produced))
            scores = asyncio.run(self.judge.rate(scorer.rubric, self.examples, produced, advance))
        elif scorer.kind == "embedding_similarity":
            scores = self.similarities(produced)
        else:
            rule = rules.RULES[scorer.kind]
            scores = [rule(scorer, e, a) for e, a in zip(self.examples, produced, strict=True)]
        timings[f"scorer {scorer.name}"] = (
            timings.get(f"scorer {scorer.name}", 0.0) + time.perf_counter() - started
        )
        applicable = [s for s in scores if s is not None]
        pass_at = scorer.pass_at
        if pass_at is None:
            pass_at = DEFAULT_PASS_AT.get(scorer.kind, 1.0)
        estimate = stats.bootstrap_mean(applicable, seed=self.suite.generation.seed)
        return ScorerResult(scorer.name, scorer.kind, tuple(scores), estimate, pass_at)

    def similarities(self, produced: Sequence[str]) -> list[float | None]:
        """Cosine similarity of each answer with its reference (MiniLM), floored at 0."""
        pairs = [(i, e.reference) for i, e in enumerate(self.examples) if e.reference is not None]
        found: list[float | None] = [None] * len(produced)
        if not pairs:
            return found
        if self._embedder is None:
            from llmops import minilm  # noqa: PLC0415 - loads torch

            self._embedder = minilm.load()
        texts = [produced[i] for i, _ in pairs] + [ref for _, ref in pairs]
        vectors = self._embedder.encode(  # type: ignore[attr-defined]
            texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True
        )
        half = len(pairs)
        for k, (i, _) in enumerate(pairs):
            found[i] = max(0.0, min(1.0, float(vectors[k] @ vectors[half + k])))
        return found

    def _compare(
        self, ours: ModelResult, theirs: ModelResult, timings: dict[str, float]
    ) -> Comparison | None:
        pairwise = self.suite.pairwise
        if pairwise is None:
            return None
        seed = self.suite.generation.seed
        if pairwise.by == PAIRWISE_JUDGE:
            assert self.judge is not None
            started = time.perf_counter()
            advance = self.progress("judge: pairwise, both orders", len(self.examples))
            verdicts = asyncio.run(
                self.judge.compare(
                    pairwise.rubric, self.examples, ours.answers, theirs.answers, advance
                )
            )
            timings["pairwise judge"] = time.perf_counter() - started
            outcomes = [v.outcome for v in verdicts]
            return Comparison(
                pairwise.by, tuple(outcomes), stats.paired(outcomes, seed=seed), tuple(verdicts)
            )
        mine, other = ours.scorers[pairwise.by].scores, theirs.scorers[pairwise.by].scores
        per_example = [
            None if a is None or b is None else stats.outcome(a, b)
            for a, b in zip(mine, other, strict=True)
        ]
        compared = [o for o in per_example if o is not None]
        return Comparison(pairwise.by, tuple(per_example), stats.paired(compared, seed=seed))
