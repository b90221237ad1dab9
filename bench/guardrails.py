"""Guardrails, measured: how well injection attempts are told from look-alikes and how well
answers are masked, on the sealed evaluation halves; and what each check adds to a
request's latency, beside the gateway with guardrails off.

Quality (the code the gateway runs, in this process): the injection detector at its
threshold on ``guardrails_injection_eval.jsonl``, with 95% Wilson intervals, per kind and
language; the output masks (every personal data and secret kind) on
``guardrails_output_eval.jsonl``: a labeled span is caught when a mask overlaps it, a
mask is right when it overlaps a labeled span. The sealed files' checksums are checked
first. ``--sealed2`` measures the detector on a second sealed set, written later by
another writer and sealed before the detector was retrained. ``--sealed3`` measures it on
a third (457 messages in seven languages, by two more writers), sealed before the
detector's second version (new views, more training sets), for that version, once.
``--sealed4``: a fourth (450 messages, English and six other languages, by three more
writers), sealed before the third version (a second stage over sentence vectors, see
``gateway/guardrails/meaning.py``), for that version, once.

Latency: one ``llmops gateway serve`` in front of the echo replica, one team per check
(off, deny patterns, secrets, personal data, injection, answers masked in a stream), the
same 400-character message sent by wrk at 1 and 16 connections to each, the teams in
turn for three rounds (the median round is kept: one machine's noise moves every team
alike within a round); p50 and p99, and what each adds to the team without guardrails (the request log off, so that its
background redaction does not blur the figures).

    python bench/guardrails.py [--duration 3] [--skip-latency] [--skip-quality]
        [--sealed2 | --sealed3 | --sealed4]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson
import yaml

sys.path.append(str(Path(__file__).resolve().parents[1]))  # run as a file: find `bench`

from bench import _load, _services
from bench._stats import wilson
from gateway.guardrails import meaning
from gateway.guardrails.checks import TextChecks
from gateway.guardrails.policy import PII_KINDS, SECRET_KINDS, PiiCheck, SecretCheck

DATA = Path(__file__).parent / "data"
TARGET_RECALL, TARGET_PRECISION, TARGET_PATTERN_P50_MS = 0.90, 0.95, 0.5
ROUNDS = 3
MESSAGE = (
    "Hello, I am writing about the invoice we received last week for the team workshop. "
    "The amount does not match the quote, and the delivery address is also wrong. Could "
    "you check it and send a corrected version to our accounts team? The reference on our "
    "side is PO-77812, and the workshop took place on the 14th. Thank you for your help."
)
POLICIES: dict[str, Any] = {
    "off": {},
    "deny": {
        "input": {
            "deny": [
                {
                    "name": "weapons",
                    "patterns": [r"bio\s*weapons?", r"nerve\s+agents?"],
                    "terms": ["sarin", "ricin"],
                }
            ]
        }
    },
    "secrets": {"input": {"secrets": {"action": "mask"}}},
    "pii": {"input": {"pii": {"action": "mask"}}},
    "injection": {"input": {"injection": {"action": "block"}}},
    "output": {"output": {"pii": {"action": "mask"}, "secrets": {"action": "mask"}}},
}


def sealed(stem: str) -> list[dict[str, Any]]:
    path = DATA / f"{stem}.jsonl"
    expected = (DATA / f"{stem}.sha256").read_text().split()[0]
    if hashlib.sha256(path.read_bytes()).hexdigest() != expected:
        raise SystemExit(f"{path} does not match its checksum: the sealed set was changed")
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def rate(hits: int, n: int) -> str:
    low, high = wilson(hits, n)
    return f"{hits / n if n else 0:.3f} ({hits}/{n}, 95% CI {low:.3f}-{high:.3f})"


def injection_quality(stem: str = "guardrails_injection_eval") -> None:
    rows = sealed(stem)
    detector = meaning.load()
    scores = detector.scores([r["text"] for r in rows])
    flagged = [s >= detector.threshold for s in scores]
    attacks = [r["label"] == "injection" for r in rows]
    tp = sum(f and a for f, a in zip(flagged, attacks, strict=True))
    print(
        f"\ninjection detection, {stem} ({len(rows)} messages), threshold {detector.threshold:.4f}"
    )
    print(f"  precision {rate(tp, sum(flagged))}  target >= {TARGET_PRECISION}")
    print(f"  recall    {rate(tp, sum(attacks))}  target >= {TARGET_RECALL}")
    by: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for row, flag in zip(rows, flagged, strict=True):
        by[("kind", f"{row['label']}/{row['kind']}")].append(flag)
        by[("lang", f"{row['label']}/{row['lang']}")].append(flag)
    for axis in ("kind", "lang"):
        print(f"  flagged, by {axis} (recall for injections, false alarms for benign):")
        for (a, name), flags in sorted(by.items()):
            if a == axis:
                print(f"    {name:28} {rate(sum(flags), len(flags))}")


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def output_quality() -> None:
    rows = sealed("guardrails_output_eval")
    checks = TextChecks(
        [("pii", PiiCheck(), PII_KINDS), ("secrets", SecretCheck(), SECRET_KINDS)], []
    )
    caught: dict[str, list[bool]] = defaultdict(list)
    right: dict[str, list[bool]] = defaultdict(list)
    for row in rows:
        text = row["text"]
        gold = []
        for span in row["spans"]:
            start = text.index(span["text"])
            gold.append((start, start + len(span["text"])))
        masks = [(f.start, f.end) for f in checks.find(text)]
        for (start, end), span in zip(gold, row["spans"], strict=True):
            hit = any(overlaps((start, end), m) for m in masks)
            caught[span["type"]].append(hit)
            caught[f"lang {row['lang']}"].append(hit)
        for m in masks:
            right["all"].append(any(overlaps(m, g) for g in gold))
            right[f"lang {row['lang']}"].append(any(overlaps(m, g) for g in gold))
    spans = [h for k, v in caught.items() if not k.startswith("lang") for h in v]
    print(
        f"\noutput masking, sealed evaluation half ({len(rows)} answers, {len(spans)} labeled spans)"
    )
    print(f"  recall    {rate(sum(spans), len(spans))}")
    print(f"  precision {rate(sum(right['all']), len(right['all']))}")
    for name, hits in sorted(caught.items()):
        print(f"    recall {name:16} {rate(sum(hits), len(hits))}")
    for name, hits in sorted(right.items()):
        if name != "all":
            print(f"    precision {name:13} {rate(sum(hits), len(hits))}")


def latency(duration: float) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="llmops-bench-") as tmp,
        _services.Stack(Path(tmp)) as stack,
    ):
        echo = _services.start_echo(stack)
        config = _services.write_gateway_config_for(stack.workdir, models={"echo": echo})
        settings = yaml.safe_load(config.read_text())
        settings["guardrails"] = {"teams": POLICIES}
        # The request log redacts each request's texts in the background (milliseconds of
        # CPU per kilobyte), which would blur what the checks themselves add.
        settings["request_log"] = {"enabled": False}
        config.write_text(yaml.safe_dump(settings))
        gateway = _services.start_gateway(stack, config)
        body = orjson.dumps(
            {"model": "echo", "messages": [{"role": "user", "content": MESSAGE}], "max_tokens": 80}
        )
        load = _load.LoadGenerator(stack.workdir, body)
        targets = [
            _load.Target(team, f"{gateway}/v1/chat/completions", _services.create_key(config, team))
            for team in POLICIES
        ]
        print(
            f"\nadded latency per check ({load.description}; {ROUNDS} rounds of {duration:g} s"
            " each, the teams in turn; the median round)"
        )
        for connections in (1, 16):
            for target in targets:  # warm up
                load.measure(target, connections=connections, duration=1)
            rounds: dict[str, list[_load.LoadResult]] = {t.name: [] for t in targets}
            for _ in range(ROUNDS):
                for target in targets:
                    rounds[target.name].append(
                        load.measure(target, connections=connections, duration=duration)
                    )
            base = _median(rounds["off"])
            for target in targets:
                result = _median(rounds[target.name])
                pattern = target.name in ("deny", "secrets")
                note = f"  (target <= {TARGET_PATTERN_P50_MS} ms)" if pattern else ""
                print(
                    f"  {connections:2d} conn {target.name:10} p50 {result.p50_ms:7.2f} ms"
                    f"  p99 {result.p99_ms:7.2f} ms  added p50 {result.p50_ms - base.p50_ms:+6.2f} ms"
                    f"  p99 {result.p99_ms - base.p99_ms:+7.2f} ms"
                    f"  {result.requests_per_second:6.0f} req/s  non-2xx {result.non_2xx}{note}"
                )


def _median(results: list[_load.LoadResult]) -> _load.LoadResult:
    """The round with the median p50."""
    return sorted(results, key=lambda r: r.p50_ms)[len(results) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per measure")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--skip-quality", action="store_true", help="latency only")
    parser.add_argument(
        "--sealed2",
        action="store_true",
        help="injection detection on the second sealed set (written later, by another writer)",
    )
    parser.add_argument(
        "--sealed3",
        action="store_true",
        help="injection detection on the third sealed set (the detector's second version's)",
    )
    parser.add_argument(
        "--sealed4",
        action="store_true",
        help="injection detection on the fourth sealed set (the detector's third version's)",
    )
    args = parser.parse_args()
    if args.sealed2:
        injection_quality("guardrails_injection_sealed2")
    elif args.sealed3:
        injection_quality("guardrails_injection_sealed3")
    elif args.sealed4:
        injection_quality("guardrails_injection_sealed4")
    elif not args.skip_quality:
        injection_quality()
        output_quality()
    if not args.skip_latency:
        latency(args.duration)


if __name__ == "__main__":
    main()
