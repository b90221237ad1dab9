"""How much of people's data the request log's redactor removes, and what it wrongly alters.

Reads labeled support messages: ``bench/data/redaction_pii.jsonl`` (sealed: its checksum
is in ``redaction_pii.sha256``; judged once) or, with ``--tune``, the separate tuning set
``redaction_pii_tune.jsonl``, ``_tune2`` or ``_tune3`` (``--tune 1|2|3``; each judged
the rules once, before they were tuned on it too). Each message lists its personal data by type (PERSON,
ADDRESS, DATE_OF_BIRTH, NATIONAL_ID, PHONE, EMAIL, CARD, IBAN, SECRET; exact substrings,
in order) and decoys (look-alikes that must stay: order, tracking and reference numbers,
commit hashes, dates that are not birth dates, brands and places). An item is caught when
the redactor's spans cover every letter and digit of it (an address: 80% of them, the
city may stay); a decoy is altered when a span touches it; a message without personal
data is altered when anything in it is replaced.

Prints recall per type (overall and per language), decoys and clean messages altered,
each with its 95% Wilson interval, and messages per second on one core.

    .venv/bin/python bench/redaction_pii.py [--tune 1|2|3] [--misses]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.append(str(Path(__file__).resolve().parents[1]))  # run as a file: find `bench`

from bench._stats import wilson
from llmops.requestlog.redaction import PiiRedactor, Span

DATA = Path(__file__).parent / "data"
SEALED = DATA / "redaction_pii.jsonl"
TUNE = DATA / "redaction_pii_tune.jsonl"
TUNE2 = DATA / "redaction_pii_tune2.jsonl"
TUNE3 = DATA / "redaction_pii_tune3.jsonl"
TYPES = (
    "PERSON", "ADDRESS", "DATE_OF_BIRTH", "NATIONAL_ID", "PHONE", "EMAIL", "CARD", "IBAN",
    "SECRET",
)  # fmt: skip
PEOPLE = frozenset({"PERSON", "ADDRESS", "DATE_OF_BIRTH"})
"""The rest are identifiers with a format (target: 99% caught)."""
ADDRESS_SHARE = 0.8


def load(path: Path) -> list[dict[str, Any]]:
    if path == SEALED:
        expected = (DATA / "redaction_pii.sha256").read_text().split()[0]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--tune",
        type=int,
        choices=(1, 2, 3),
        help="a tuning set (1 to 3, each written apart from the others), not the sealed one",
    )
    parser.add_argument("--misses", action="store_true", help="print what was missed or altered")
    args = parser.parse_args()
    messages = load({None: SEALED, 1: TUNE, 2: TUNE2, 3: TUNE3}[args.tune])
    redactor = PiiRedactor()
    redactor.find("warm up: Mr. Smith, 1 rue de la Paix, 75002 Paris")
    started = time.process_time()
    found = [redactor.find(m["text"]) for m in messages]
    cpu = time.process_time() - started
    print(f"{len(messages)} messages, {len(messages) / cpu:.0f} per second on one core")
    caught: dict[tuple[str, str], list[bool]] = defaultdict(list)
    decoys: dict[str, list[bool]] = defaultdict(list)
    clean: dict[str, list[bool]] = defaultdict(list)
    for m, spans in zip(messages, found, strict=True):
        text, lang = m["text"], m["lang"]
        places = located(text, [p["text"] for p in m["pii"]])
        for p, where in zip(m["pii"], places, strict=True):
            share = ADDRESS_SHARE if p["type"] == "ADDRESS" else 1.0
            ok = covered(text, where, spans, share)
            caught[(p["type"], lang)].append(ok)
            if args.misses and not ok:
                print(f"  MISSED {p['type']:<13} {p['text']!r}  in {m['id']}")
        for d, (a, b) in zip(m["decoys"], located(text, m["decoys"]), strict=True):
            touched = any(s.start < b and s.end > a for s in spans)
            decoys[lang].append(touched)
            if args.misses and touched:
                print(f"  ALTERED decoy {d!r} in {m['id']}")
        if not m["pii"]:
            clean[lang].append(bool(spans))
            if args.misses and spans:
                print(f"  ALTERED clean {m['id']}: {[text[s.start : s.end] for s in spans]}")
    report(caught, decoys, clean, sorted({m["lang"] for m in messages}))


def report(
    caught: dict[tuple[str, str], list[bool]],
    decoys: dict[str, list[bool]],
    clean: dict[str, list[bool]],
    langs: list[str],
) -> None:
    for lang in (None, *langs):
        print(f"{lang or 'all languages'}:")
        for t in (*TYPES, "identifiers"):
            kinds = {k for k in TYPES if k not in PEOPLE} if t == "identifiers" else {t}
            got = [
                ok
                for (kind, la), oks in caught.items()
                if kind in kinds and (lang is None or la == lang)
                for ok in oks
            ]
            if got:
                print(line(t, sum(got), len(got)))
        d = [x for la, xs in decoys.items() if lang is None or la == lang for x in xs]
        c = [x for la, xs in clean.items() if lang is None or la == lang for x in xs]
        print(line("decoys altered", sum(d), len(d)))
        print(line("clean altered", sum(c), len(c)))


if __name__ == "__main__":
    main()
