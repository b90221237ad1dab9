"""Train the request log's name reader (``platform/llmops/requestlog/namereader.py``) and
choose its threshold.

Fitted on the labeled support messages already spent (``TRAINING``: the tuning sets and
the sealed sets already judged). The first shipped weights learned from the first six
sealed sets, the third version's from the first eight (and, once it had judged that
version, the ninth, then the tenth); each later set judged its version once (``bench/redaction_pii.py
--sealed N``) and was added after. Each word is an example: part of a labeled personal name or not.

Before fitting on everything, each of the last three sealed sets is left out in turn and
judged as ``bench/redaction_pii.py`` judges (a name caught when every letter of it is
covered; a decoy altered when any span touches it, whatever found it), for the rules
alone and for the rules with the model at each threshold in ``--thresholds``. The
shipped threshold (``--threshold``) is chosen from those figures, by hand.

    python bench/redaction_names_train.py [--c 0.05] [--threshold 0.6] [--dry-run]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression

sys.path.append(str(Path(__file__).resolve().parents[1]))  # run as a file: find `bench`

from bench._stats import wilson
from bench.redaction_pii import DATA, judge, load, located
from llmops import sentences
from llmops.requestlog import namereader, redaction
from llmops.requestlog.handles import handles
from llmops.requestlog.personnames import person_names
from llmops.requestlog.spans import Span

TRAINING = (
    "redaction_pii.jsonl",
    *(f"redaction_pii_sealed{n}.jsonl" for n in range(2, 11)),
    "redaction_pii_tune.jsonl",
    *(f"redaction_pii_tune{n}.jsonl" for n in range(2, 5)),
)
LEFT_OUT = tuple(f"redaction_pii_sealed{n}.jsonl" for n in (8, 9, 10))


@dataclass
class Read:
    """One message as the trainer sees it: its words' model inputs and labels."""

    message: dict[str, Any]
    spans: list[tuple[int, int]]
    x: np.ndarray
    y: np.ndarray
    rules: list[Span]
    others: list[Span]
    """What the other recognizers find (they alter decoys too)."""


def read(message: dict[str, Any], others: redaction.PiiRedactor) -> Read:
    text = message["text"]
    names = [p["text"] for p in message["pii"]]
    places = [
        where for p, where in zip(message["pii"], located(text, names), strict=True)
        if p["type"] == "PERSON"
    ]  # fmt: skip
    words = sentences.word_features(text)
    rules = [*person_names(text), *handles(text)]
    y = np.array([any(a >= s and b <= e for s, e in places) for a, b in words.spans])
    x = namereader.inputs(text, words.spans, words.features, rules)
    return Read(message, words.spans, x, y, rules, others.find(text))


def found(r: Read, probabilities: np.ndarray | None, threshold: float) -> list[Span]:
    text = r.message["text"]
    spans = list(r.rules)
    if probabilities is not None:
        picked = namereader.chosen(text, r.spans, probabilities, r.rules, threshold)
        spans += namereader.joined(text, r.spans, picked)
    return redaction.PiiRedactor([lambda _t: iter(spans + r.others)]).find(text)


def report(
    label: str,
    reads: list[Read],
    probabilities: Sequence[np.ndarray | None],
    threshold: float = 1.0,
) -> None:
    judged = judge(
        [r.message for r in reads],
        [found(r, p, threshold) for r, p in zip(reads, probabilities, strict=True)],
    )
    hit, n = judged.rate({"PERSON"})
    dhit, dn = judged.altered(judged.decoys)
    chit, cn = judged.altered(judged.clean)
    lo, hi = wilson(hit, n)
    print(
        f"  {label:<22} names {hit / n:6.1%} [{lo:5.1%}, {hi:6.1%}] ({hit}/{n})"
        f"  decoys altered {dhit / max(dn, 1):5.1%} ({dhit}/{dn})"
        f"  clean altered {chit}/{cn}"
    )


def fit(reads: list[Read], c: float) -> namereader.NameModel:
    x = np.vstack([r.x for r in reads])
    y = np.concatenate([r.y for r in reads])
    clf = LogisticRegression(C=c, max_iter=5000).fit(x, y)
    return namereader.NameModel(clf.coef_[0].astype(np.float32), float(clf.intercept_[0]), 0.5)


def chunks(sets: dict[str, list[Read]], held: str) -> Iterator[Read]:
    for name, reads in sets.items():
        if name != held:
            yield from reads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--c", type=float, default=0.05, help="inverse regularization")
    parser.add_argument("--threshold", type=float, default=0.6, help="the shipped threshold")
    parser.add_argument("--thresholds", default="0.5,0.6,0.7", help="judged when left out")
    parser.add_argument("--dry-run", action="store_true", help="judge, but write nothing")
    args = parser.parse_args()
    others = redaction.PiiRedactor(
        [r for r in redaction.DEFAULT_RECOGNIZERS if r is not namereader.people]
    )
    started = time.monotonic()
    sets: dict[str, list[Read]] = {}
    for name in TRAINING:
        sets[name] = [read(m, others) for m in load(DATA / name)]
        print(f"read {name}: {len(sets[name])} messages ({time.monotonic() - started:.0f} s)")
    thresholds = [float(t) for t in args.thresholds.split(",")]
    for held in LEFT_OUT:
        model = fit(list(chunks(sets, held)), args.c)
        test = sets[held]
        print(f"{held} left out:")
        report("rules", test, [None] * len(test))
        probabilities = [model.probabilities(r.x) for r in test]
        for t in thresholds:
            report(f"rules or model >= {t}", test, probabilities, t)
    model = fit([r for reads in sets.values() for r in reads], args.c)
    model = namereader.NameModel(model.weights, model.bias, args.threshold)
    words = sum(len(r.y) for reads in sets.values() for r in reads)
    print(f"fitted on {words} words of {sum(map(len, sets.values()))} messages")
    if not args.dry_run:
        model.save(namereader.MODEL)
        print(f"wrote {namereader.MODEL} (threshold {args.threshold})")


if __name__ == "__main__":
    main()
