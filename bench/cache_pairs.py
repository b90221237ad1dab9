"""Builds the labeled pairs the cache is judged on: ``bench/data/cache_pairs.jsonl``.

Run it after changing the hand-written groups in ``bench/data/cache_groups.json``
(each: a question, rewordings that must get the same answer, and near-misses that
must not, each with the kind of difference); the JSONL is kept in the
repository so that every figure can be traced to the exact pairs. Each line:
``{"id", "group", "split", "kind", "a", "b", "tenant_a", "tenant_b", "hit"}``:
``a`` is asked first (its answer is cached), ``b`` second; ``hit`` says whether
``a``'s answer may answer ``b``. ``kind`` is ``paraphrase`` for the pairs that
should hit, else the difference: ``negation``, ``number``, ``entity``, ``date``,
``intent`` or ``tenant``.

Splits are by group, never by pair: the ``tune`` groups chose the threshold, the
``test`` groups were not looked at while tuning (``bench/cache_quality.py``
reports both).
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

sys.path.append(str(Path(__file__).resolve().parents[1]))  # run as a file: find `bench`

OUT = Path(__file__).parent / "data" / "cache_pairs.jsonl"
GROUPS: list[tuple[str, list[str], list[tuple[str, str]]]] = [
    (g["question"], g["rewordings"], [(m["kind"], m["text"]) for m in g["near_misses"]])
    for g in json.loads((Path(__file__).parent / "data" / "cache_groups.json").read_text())
]

# Templated groups: one wording per slot value, rewordings and near-misses made by
# changing exactly one thing.
TEMPLATES: list[dict[str, Any]] = [
    {
        "base": "What is {a} multiplied by {b}?",
        "paraphrases": ["Multiply {a} by {b}.", "What do you get when you multiply {a} and {b}?"],
        "slots": [(12, 7), (23, 4), (15, 15), (9, 8), (31, 3)],
        "miss": ("number", "What is {a} multiplied by {c}?"),
    },
    {
        "base": "What time zone is {a} in?",
        "paraphrases": ["Which time zone does {a} use?", "In what time zone is {a}?"],
        "slots": [("Chicago",), ("Berlin",), ("Sydney",), ("Denver",), ("Nairobi",)],
        "miss": ("entity", "What time zone is {c} in?"),
        "others": ["Boston", "Madrid", "Perth", "Phoenix", "Lagos"],
    },
    {
        "base": "How do I get from {a} to the airport?",
        "paraphrases": [
            "What's the best way to get from {a} to the airport?",
            "How can I travel from {a} to the airport?",
        ],
        "slots": [("Manhattan",), ("Shibuya",), ("Kreuzberg",), ("Soho",), ("Montmartre",)],
        "miss": ("entity", "How do I get from {c} to the airport?"),
        "others": ["Brooklyn", "Shinjuku", "Mitte", "Camden", "Marais"],
    },
    {
        "base": "Is the {a} open on {b}?",
        "paraphrases": ["Is the {a} open on {b}s?", "Can I visit the {a} on {b}?"],
        "slots": [
            ("Louvre", "Tuesday"),
            ("British Museum", "Sunday"),
            ("Prado", "Monday"),
            ("Uffizi", "Wednesday"),
        ],
        "miss": ("date", "Is the {a} open on {c}?"),
        "others": ["Friday", "Saturday", "Thursday", "Sunday"],
    },
    {
        "base": "Should I invest in {a} this year?",
        "paraphrases": [
            "Is investing in {a} a good idea this year?",
            "Is {a} a good investment this year?",
        ],
        "slots": [("Tesla",), ("Apple",), ("Nvidia",), ("Bitcoin",)],
        "miss": ("negation", "Why should I not invest in {a} this year?"),
    },
]


def _pair(
    group: str, split: str, kind: str, a: str, b: str, *, hit: bool, **tenants: str
) -> dict[str, Any]:
    return {
        "group": group,
        "split": split,
        "kind": kind,
        "a": a,
        "b": b,
        "tenant_a": tenants.get("tenant_a", "team-a"),
        "tenant_b": tenants.get("tenant_b", "team-a"),
        "hit": hit,
    }


def _hand_written() -> list[dict[str, Any]]:
    pairs = []
    for i, (base, paraphrases, misses) in enumerate(GROUPS):
        group, split = f"g{i:02d}", "tune" if i % 2 == 0 else "test"
        for p in paraphrases:
            pairs.append(_pair(group, split, "paraphrase", base, p, hit=True))
        pairs.append(_pair(group, split, "paraphrase", paraphrases[0], paraphrases[1], hit=True))
        for kind, miss in misses:
            pairs.append(_pair(group, split, kind, base, miss, hit=False))
    return pairs


def _templated() -> list[dict[str, Any]]:
    pairs = []
    for t, template in enumerate(TEMPLATES):
        group, split = f"t{t}", "tune" if t % 2 == 0 else "test"
        kind, miss = template["miss"]
        for s, slot in enumerate(template["slots"]):
            values = {"a": slot[0], "b": slot[1] if len(slot) > 1 else ""}
            base = template["base"].format(**values)
            for p in template["paraphrases"]:
                pairs.append(_pair(group, split, "paraphrase", base, p.format(**values), hit=True))
            other = template.get("others", [])
            c = (
                other[s]
                if other
                else (values["b"] + 1 if isinstance(values["b"], int) else values["a"])
            )
            pairs.append(_pair(group, split, kind, base, miss.format(**values, c=c), hit=False))
    return pairs


def _tenants(pairs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Hostile cross-tenant attempts: the same or a reworded question from another team."""
    rng = random.Random(7)
    positives = [p for p in pairs if p["hit"]]
    out: list[dict[str, Any]] = []
    for p in rng.sample(positives, 60):
        b = p["a"] if len(out) % 2 == 0 else p["b"]
        out.append(_pair(p["group"], p["split"], "tenant", p["a"], b, hit=False, tenant_b="team-b"))
    return out


def build() -> list[dict[str, Any]]:
    pairs = _hand_written() + _templated()
    pairs += _tenants(pairs)
    for n, pair in enumerate(pairs):
        pair["id"] = n
    return pairs


def main() -> None:
    pairs = build()
    OUT.parent.mkdir(exist_ok=True)
    with OUT.open("w") as f:
        for pair in pairs:
            f.write(json.dumps(pair, sort_keys=True) + "\n")
    hits = sum(p["hit"] for p in pairs)
    print(f"{len(pairs)} pairs ({hits} should hit, {len(pairs) - hits} must not) -> {OUT}")


if __name__ == "__main__":
    main()
