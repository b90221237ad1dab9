"""How much of people's data the request log's redactor removes, and what it wrongly alters.

Reads labeled support messages: ``bench/data/redaction_pii.jsonl`` (sealed: its checksum
is in ``redaction_pii.sha256``; judged once, by the rules' first version), with
``--sealed N`` ``redaction_pii_sealedN.jsonl`` (N from 2 to 10: sealed before the N-th
version, which it judged once; from the third on, a title written before a name was
taken out of the name's label as the data was sealed, since a title is kept; the seventh
judged the first version with the name reader, :mod:`llmops.requestlog.namereader`, the
eighth and ninth its second and third, the tenth the fourth (firms' phone lines): these
three were written to a stricter brief, every card, IBAN and national number passing its
own check), or,
with ``--tune``, the separate tuning set ``redaction_pii_tune.jsonl``, ``_tune2``,
``_tune3`` or ``_tune4`` (``--tune 1|2|3|4``; each judged the rules once, before they were
tuned on it too). Each message lists its personal data by type (PERSON,
ADDRESS, DATE_OF_BIRTH, NATIONAL_ID, PHONE, EMAIL, CARD, IBAN, SECRET; exact substrings,
in order) and decoys (look-alikes that must stay: order, tracking and reference numbers,
commit hashes, dates that are not birth dates, brands and places). An item is caught when
the redactor's spans cover every letter and digit of it (an address: 80% of them, the
city may stay); a decoy is altered when a span touches it; a message without personal
data is altered when anything in it is replaced.

Prints recall per type (overall and per language), decoys and clean messages altered,
each with its 95% Wilson interval, and messages per second on one core.

    .venv/bin/python bench/redaction_pii.py [--sealed N | --tune 1|2|3|4] [--misses]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.append(str(Path(__file__).resolve().parents[1]))  # run as a file: find `bench`

from bench._stats import wilson
from llmops.requestlog.redaction import PiiRedactor, Span

DATA = Path(__file__).parent / "data"
SEALED = DATA / "redaction_pii.jsonl"
SEALED_SETS = (SEALED, *(DATA / f"redaction_pii_sealed{n}.jsonl" for n in range(2, 11)))
TUNE = DATA / "redaction_pii_tune.jsonl"
TUNE2 = DATA / "redaction_pii_tune2.jsonl"
TUNE3 = DATA / "redaction_pii_tune3.jsonl"
TUNE4 = DATA / "redaction_pii_tune4.jsonl"
TYPES = (
    "PERSON", "ADDRESS", "DATE_OF_BIRTH", "NATIONAL_ID", "PHONE", "EMAIL", "CARD", "IBAN",
    "SECRET",
)  # fmt: skip
PEOPLE = frozenset({"PERSON", "ADDRESS", "DATE_OF_BIRTH"})
IDENTIFIERS = set(TYPES) - PEOPLE
"""Identifiers with a format (target: 99% caught)."""
ADDRESS_SHARE = 0.8


def load(path: Path) -> list[dict[str, Any]]:
    if path in SEALED_SETS:
        expected = (path.with_suffix(".sha256")).read_text().split()[0]
        if hashlib.sha256(path.read_bytes()).hexdigest() != expected:
            raise SystemExit(f"{path} does not match its sealed checksum")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def located(text: str, items: list[str]) -> list[tuple[int, int]]:
    """Each item's place: the k-th label of a string is its k-th occurrence."""
    seen: dict[str, int] = defaultdict(int)
    out = []
    for item in items:
        start = -1
        for _ in range(seen[item] + 1):
            start = text.find(item, start + 1)
        seen[item] += 1
        out.append((start, start + len(item)))
    return out


def covered(text: str, where: tuple[int, int], spans: list[Span], share: float) -> bool:
    chars = [i for i in range(*where) if text[i].isalnum()]
    hit = sum(any(s.start <= i < s.end for s in spans) for i in chars)
    return hit >= share * len(chars) if share < 1 else hit == len(chars)


def line(name: str, hit: int, n: int) -> str:
    low, high = wilson(hit, n)
    rate = hit / n if n else 0.0
    return f"  {name:<14} {rate:6.1%} [{low:5.1%}, {high:6.1%}]  ({hit} of {n})"


@dataclass
class Judged:
    """Per (type, language): each item caught or not; per language: each decoy, and each
    message without personal data, altered or not."""

    caught: dict[tuple[str, str], list[bool]] = field(default_factory=lambda: defaultdict(list))
    decoys: dict[str, list[bool]] = field(default_factory=lambda: defaultdict(list))
    clean: dict[str, list[bool]] = field(default_factory=lambda: defaultdict(list))

    def rate(self, kinds: set[str], lang: str | None = None) -> tuple[int, int]:
        got = [
            ok
            for (kind, la), oks in self.caught.items()
            if kind in kinds and (lang is None or la == lang)
            for ok in oks
        ]
        return sum(got), len(got)

    def altered(self, of: dict[str, list[bool]], lang: str | None = None) -> tuple[int, int]:
        got = [x for la, xs in of.items() if lang is None or la == lang for x in xs]
        return sum(got), len(got)


def judge(
    messages: list[dict[str, Any]], found: list[list[Span]], *, misses: bool = False
) -> Judged:
    judged = Judged()
    for m, spans in zip(messages, found, strict=True):
        text, lang = m["text"], m["lang"]
        places = located(text, [p["text"] for p in m["pii"]])
        for p, where in zip(m["pii"], places, strict=True):
            share = ADDRESS_SHARE if p["type"] == "ADDRESS" else 1.0
            ok = covered(text, where, spans, share)
            judged.caught[(p["type"], lang)].append(ok)
            if misses and not ok:
                print(f"  MISSED {p['type']:<13} {p['text']!r}  in {m['id']}")
        for d, (a, b) in zip(m["decoys"], located(text, m["decoys"]), strict=True):
            touched = any(s.start < b and s.end > a for s in spans)
            judged.decoys[lang].append(touched)
            if misses and touched:
                print(f"  ALTERED decoy {d!r} in {m['id']}")
        if not m["pii"]:
            judged.clean[lang].append(bool(spans))
            if misses and spans:
                print(f"  ALTERED clean {m['id']}: {[text[s.start : s.end] for s in spans]}")
    return judged


SCALING_UNITS = ("Ab: x\n", "key Ab12 ", "Aa ", "A de ", "hi rosa - ", "1.", "1:", "[1] ")
"""Patterns repeated over a whole text: a recognizer that reads the text again for each
candidate costs a hundred times more for a text ten times longer."""


def scaling() -> None:
    redactor = PiiRedactor()
    redactor.find("warm up: Mr. Smith, 1 rue de la Paix, 75002 Paris")
    print("seconds on one core for a text of one repeated pattern (10k and 100k characters)")
    for unit in SCALING_UNITS:
        costs = []
        for chars in (10_000, 100_000):
            text = (unit * (chars // len(unit) + 1))[:chars]
            started = time.process_time()
            redactor.find(text)
            costs.append(time.process_time() - started)
        ratio = costs[1] / max(costs[0], 1e-3)
        print(f"  {unit!r:14} {costs[0]:6.2f} s  {costs[1]:6.2f} s  ratio {ratio:5.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--tune",
        type=int,
        choices=(1, 2, 3, 4),
        help="a tuning set (1 to 4, each written apart from the others; 4 is rich in decoys), not the sealed one",
    )
    parser.add_argument(
        "--sealed",
        type=int,
        choices=range(1, len(SEALED_SETS) + 1),
        default=1,
        metavar="N",
        help="the N-th sealed set (1 to 10; each judged the N-th version once)",
    )
    parser.add_argument(
        "--scaling",
        action="store_true",
        help="only time long texts of one repeated pattern (10 and 100 thousand characters)",
    )
    parser.add_argument("--misses", action="store_true", help="print what was missed or altered")
    args = parser.parse_args()
    if args.scaling:
        scaling()
        return
    sets = {None: SEALED_SETS[args.sealed - 1], 1: TUNE, 2: TUNE2, 3: TUNE3, 4: TUNE4}
    messages = load(sets[args.tune])
    redactor = PiiRedactor()
    redactor.find("warm up: Mr. Smith, 1 rue de la Paix, 75002 Paris")
    started = time.process_time()
    found = [redactor.find(m["text"]) for m in messages]
    cpu = time.process_time() - started
    print(f"{len(messages)} messages, {len(messages) / cpu:.0f} per second on one core")
    report(judge(messages, found, misses=args.misses), sorted({m["lang"] for m in messages}))


def report(judged: Judged, langs: list[str]) -> None:
    for lang in (None, *langs):
        print(f"{lang or 'all languages'}:")
        for t in (*TYPES, "identifiers"):
            kinds = IDENTIFIERS if t == "identifiers" else {t}
            hit, n = judged.rate(kinds, lang)
            if n:
                print(line(t, hit, n))
        print(line("decoys altered", *judged.altered(judged.decoys, lang)))
        print(line("clean altered", *judged.altered(judged.clean, lang)))


if __name__ == "__main__":
    main()
