"""What a person reads after a run (Markdown) and what a machine reads (JSON).

The Markdown report opens with the gates and the figures with their intervals, then
lists every example, failures first: an example fails when a scorer's score is
under its pass mark, or when the candidate lost the pairwise comparison.
"""

from __future__ import annotations

from typing import Any

from llmops.evaluation.runner import EvalResult, ModelResult

CELL = 160
"""Characters of a prompt or answer shown in a table cell."""


def _cell(text: str) -> str:
    flat = " ".join(text.split()).replace("|", "\\|")
    return flat if len(flat) <= CELL else flat[: CELL - 1] + "…"


def failures(result: EvalResult, i: int) -> list[str]:
    """What went wrong for example ``i``: failed scorers, and a pairwise loss."""
    found = [name for name, s in result.candidate.scorers.items() if s.passed(i) is False]
    comparison = result.comparison
    if comparison is not None and comparison.outcomes[i] == 0.0:
        found.append(f"lost to {result.against.resolved if result.against else 'the other'}")
    return found


def _figures(result: EvalResult) -> list[str]:
    lines = ["| scorer | kind | candidate (95% CI) | n |"]
    if result.against is not None:
        lines[0] = "| scorer | kind | candidate (95% CI) | n | other (95% CI) | delta |"
    lines.append("|" + "---|" * (lines[0].count("|") - 1))
    for name, s in result.candidate.scorers.items():
        e = s.estimate
        row = f"| {name} | {s.kind} | {e.mean:.3f} [{e.low:.3f}, {e.high:.3f}] | {e.n} |"
        if result.against is not None:
            o = result.against.scorers[name].estimate
            row += f" {o.mean:.3f} [{o.low:.3f}, {o.high:.3f}] | {e.mean - o.mean:+.3f} |"
        lines.append(row)
    return lines


def _comparison(result: EvalResult) -> list[str]:
    c = result.comparison
    if c is None or result.against is None:
        return []
    r = c.result
    return [
        "",
        f"## {result.candidate.resolved} against {result.against.resolved} (by {c.by})",
        "",
        f"- win rate {r.win_rate.mean:.3f} (95% CI [{r.win_rate.low:.3f}, {r.win_rate.high:.3f}]), "
        f"ties counted as half",
        f"- {r.wins} wins, {r.losses} losses, {r.ties} ties; one-sided sign test p = {r.p_value:.4g}",
    ]


def markdown(result: EvalResult) -> str:
    suite = result.suite
    lines = [
        f"# Suite {result.name}: {result.candidate.resolved}",
        "",
        f"{len(suite.examples)} examples from {suite.path.name} (sha256 {suite.sha256[:12]}).",
    ]
    if result.gates:
        lines += ["", "## Gates", ""]
        lines += [
            f"- {'passed' if g.passed else '**REFUSED**'}: `{g.expression}` "
            f"(value {g.value:.4g}, threshold {g.threshold:.4g})"
            for g in result.gates
        ]
    lines += ["", "## Scores", "", *_figures(result), *_comparison(result)]
    if result.judge_unparsed:
        lines += ["", f"The judge gave no verdict in {result.judge_unparsed} replies."]
    lines += ["", "## Examples, failures first", ""]
    header = "| # | failed | prompt | answer |"
    if result.against is not None:
        header = "| # | failed | prompt | answer | other's answer |"
    lines += [header, "|" + "---|" * (header.count("|") - 1)]
    order = sorted(range(len(suite.examples)), key=lambda i: (not failures(result, i), i))
    for i in order:
        example = suite.examples[i]
        row = (
            f"| {i + 1} | {_cell(', '.join(failures(result, i))) or '-'} | "
            f"{_cell(example.question)} | {_cell(result.candidate.answers[i])} |"
        )
        if result.against is not None:
            row += f" {_cell(result.against.answers[i])} |"
        lines.append(row)
    return "\n".join(lines) + "\n"


def _model_json(model: ModelResult) -> dict[str, Any]:
    return {
        "ref": model.ref,
        "resolved": model.resolved,
        "seconds": round(model.seconds, 3),
        "scorers": {
            name: {
                "kind": s.kind,
                "mean": s.estimate.mean,
                "ci_low": s.estimate.low,
                "ci_high": s.estimate.high,
                "n": s.estimate.n,
            }
            for name, s in model.scorers.items()
        },
    }


def to_json(result: EvalResult) -> dict[str, Any]:
    c = result.comparison
    return {
        "suite": result.name,
        "suite_sha256": result.suite.sha256,
        "examples": len(result.suite.examples),
        "passed": result.passed,
        "gates": [g.to_json() for g in result.gates],
        "metrics": result.metrics(),
        "candidate": _model_json(result.candidate),
        "against": _model_json(result.against) if result.against is not None else None,
        "pairwise": None
        if c is None
        else {
            "by": c.by,
            "win_rate": c.result.win_rate.mean,
            "ci_low": c.result.win_rate.low,
            "ci_high": c.result.win_rate.high,
            "p_value": c.result.p_value,
            "wins": c.result.wins,
            "losses": c.result.losses,
            "ties": c.result.ties,
        },
        "judge_unparsed": result.judge_unparsed,
        "seconds": {k: round(v, 3) for k, v in result.seconds.items()},
    }


def table(result: EvalResult) -> dict[str, list[Any]]:
    """Per-example columns (MLflow's table artifact)."""
    n = len(result.suite.examples)
    columns: dict[str, list[Any]] = {
        "source": [e.source for e in result.suite.examples],
        "prompt": [e.question for e in result.suite.examples],
        "answer": list(result.candidate.answers),
        "failed": [", ".join(failures(result, i)) for i in range(n)],
    }
    for name, s in result.candidate.scorers.items():
        columns[name] = list(s.scores)
    if result.against is not None:
        columns["other_answer"] = list(result.against.answers)
    if result.comparison is not None:
        columns["outcome"] = list(result.comparison.outcomes)
    return columns
