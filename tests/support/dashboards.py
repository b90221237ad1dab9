"""The dashboards of ``dashboards/`` as data: their PromQL expressions, with Grafana's
variables replaced as Grafana would (every value selected), ready to parse or run."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import promql_parser

DASHBOARDS = Path(__file__).resolve().parents[2] / "dashboards"
_LABEL_VALUES = re.compile(r"label_values\((?P<metric>[^,)]+),\s*(?P<label>\w+)\)")


@dataclass(frozen=True)
class Query:
    dashboard: str
    where: str
    """The panel title, annotation or variable the query belongs to."""
    expr: str

    def __str__(self) -> str:
        return f"{self.dashboard} / {self.where}: {self.expr}"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DASHBOARDS / f"{name}.json").read_text())
    return data


def names() -> list[str]:
    return sorted(p.stem for p in DASHBOARDS.glob("*.json"))


def panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in board["panels"]:
        yield panel
        yield from panel.get("panels", [])


def queries(name: str) -> list[Query]:
    """Every PromQL expression of a dashboard: panel targets and annotations."""
    board = load(name)
    found = [
        Query(name, panel["title"], target["expr"])
        for panel in panels(board)
        for target in panel.get("targets", [])
    ]
    found += [
        Query(name, f"annotation {a['name']}", a["expr"])
        for a in board["annotations"]["list"]
        if "expr" in a
    ]
    return found


def variable_metrics(name: str) -> list[tuple[str, str]]:
    """(metric, label) of each ``label_values`` template variable."""
    out = []
    for variable in load(name)["templating"]["list"]:
        if variable["type"] == "query":
            match = _LABEL_VALUES.fullmatch(variable["definition"])
            assert match, f"{name}: variable {variable['name']} is not label_values(metric, label)"
            out.append((match["metric"].strip(), match["label"]))
    return out


def expand(expr: str, rate_interval: str = "5m") -> str:
    """The expression as Grafana sends it with every variable at "All"."""
    expr = expr.replace("$__rate_interval", rate_interval).replace("$__interval", rate_interval)
    return re.sub(r"\$\{?(\w+)\}?", ".*", expr)


def selector_names(expr: str) -> set[str]:
    """Metric names of every selector in a PromQL expression (raises on a syntax error)."""
    found: set[str] = set()

    def visit(node: Any) -> bool:
        if isinstance(node, promql_parser.VectorSelector):
            name = node.name or next(
                (m.value for m in node.matchers.matchers if m.name == "__name__"), None
            )
            assert name, f"a selector without a metric name: {node}"
            found.add(name)
        return True

    promql_parser.walk(promql_parser.parse(expr), visit)
    return found
