"""Promotion gates: ``METRIC OP champion`` or ``METRIC OP NUMBER``, judged on plain data.

A gate compares one metric of the candidate version (its tags, written by the
fine-tune run) with the same metric of the current champion, or with a fixed
number. ``OP`` is one of ``<=``, ``>=``, ``<``, ``>``, ``==``. Without a champion a
gate against ``champion`` passes (the first version has nothing to beat) and its
threshold is the candidate's own value.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from llmops.registry.errors import GateSyntaxError, MissingMetric

CHAMPION = "champion"
_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "<": operator.lt,
    ">": operator.gt,
}
_PAIRWISE = re.compile(
    r"^eval\.(?P<suite>[a-z][a-z0-9_]*)\.(?:win_rate(?:\.ci_low|\.ci_high)?|p_value|wins|losses|ties)$"
)
_GATE = re.compile(r"^\s*(?P<metric>[A-Za-z_][\w.]*)\s*(?P<op><=|>=|==|<|>)\s*(?P<rhs>\S+)\s*$")


@dataclass(frozen=True, slots=True)
class Gate:
    """One parsed gate expression."""

    expression: str
    metric: str
    op: str
    against: float | None
    """The fixed threshold; ``None`` compares with the champion's value."""


@dataclass(frozen=True, slots=True)
class GateResult:
    expression: str
    passed: bool
    value: float
    threshold: float
    note: str = ""
    """Why a gate passed or failed other than by its numbers."""

    def to_json(self) -> dict[str, object]:
        found: dict[str, object] = {
            "expression": self.expression,
            "passed": self.passed,
            "value": self.value if math.isfinite(self.value) else None,
            "threshold": self.threshold if math.isfinite(self.threshold) else None,
        }
        if self.note:
            found["note"] = self.note
        return found


def parse(expression: str) -> Gate:
    """The gate ``expression`` describes; raises :class:`GateSyntaxError`."""
    match = _GATE.match(expression)
    if match is None:
        raise GateSyntaxError(
            f"gate {expression!r} is not 'METRIC OP champion' or 'METRIC OP NUMBER' "
            f"(OP one of {', '.join(_OPERATORS)})"
        )
    rhs = match["rhs"]
    against: float | None = None
    if rhs != CHAMPION:
        try:
            against = float(rhs)
        except ValueError:
            raise GateSyntaxError(
                f"gate {expression!r}: {rhs!r} is neither 'champion' nor a number"
            ) from None
        if not math.isfinite(against):
            raise GateSyntaxError(f"gate {expression!r}: the threshold must be finite")
    return Gate(expression.strip(), match["metric"], match["op"], against)


def pairwise_suite(metric: str) -> str | None:
    """The suite of a pairwise figure (``eval.SUITE.win_rate``, ``.p_value``, ...), else ``None``.

    Such a figure compares the version with one other version (tagged
    ``eval.SUITE.against``): it means something only while that one is the champion.
    """
    found = _PAIRWISE.match(metric)
    return found["suite"] if found else None


def judge(
    gates: Sequence[Gate],
    candidate: Mapping[str, float],
    champion: Mapping[str, float] | None,
) -> list[GateResult]:
    """Each gate's verdict on ``candidate``'s metrics, against ``champion``'s when it asks."""
    results = []
    for gate in gates:
        if gate.metric not in candidate:
            raise MissingMetric(f"the candidate has no {gate.metric!r} metric ({gate.expression})")
        value = candidate[gate.metric]
        if gate.against is not None:
            threshold = gate.against
        elif champion is None:
            threshold = value
        elif gate.metric in champion:
            threshold = champion[gate.metric]
        else:
            raise MissingMetric(f"the champion has no {gate.metric!r} metric ({gate.expression})")
        passed = _OPERATORS[gate.op](value, threshold)
        results.append(GateResult(gate.expression, passed, value, threshold))
    return results


def metrics_of(tags: Mapping[str, str]) -> dict[str, float]:
    """The numeric tags of a version (eval metrics among them) as floats."""
    found = {}
    for key, text in tags.items():
        try:
            value = float(text)
        except ValueError:
            continue
        if math.isfinite(value):
            found[key] = value
    return found
