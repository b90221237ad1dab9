"""Whether the cache holds its error bound on a long stream, with known truth.

A stream of questions goes through the real cache: the request plan, the in-process store
and its HNSW index, the verifier, and the error bound with its checks against the replica.
The questions are the labeled pairs of the tuning set (``bench/data/cache_tune.jsonl``,
never the sealed one), asked by many teams, each with a cache namespace of its own:
each team asks every pair's first question, later its second (a rewording or a
near-miss), and now and then one it asked before. The replica is simulated: it answers
each question with the answer of its meaning group (pairs labeled ``hit`` share a group),
as a model at temperature 0 answers one question (up to spacing and case), so that the
truth of every hit is known.

Printed as the stream goes: semantic hits served, the true wrong rate among them
(cumulative, and over the last stretch), the bound's live estimate and its upper bound,
its threshold and state, and the share of would-be hits re-asked. Three runs: with the
verifier, as deployed; the same, with the replica changing three quarters of the way
(a new model version answers a third of the questions otherwise, so that the cached
answers to them turn wrong); and with a plain cosine match instead (``verify`` off), a
weak judge whose errors the bound alone must keep from being served.

    .venv/bin/python bench/cache_error_bound.py [--teams N] [--target 0.01] [--audit 0.05]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.append(str(Path(__file__).resolve().parents[1]))  # run as a file: find `bench`

from bench.cache_quality import TableEmbedder, embed_all, load_pairs, request_for
from gateway.cache.bound import ALL_TEAMS
from gateway.cache.memory import MemoryCacheStore
from gateway.cache.service import ResponseCache, Result
from gateway.metrics import GatewayMetrics
from gateway.settings import CacheSettings

MODEL = "m"  # request_for asks this model


def groups(pairs: list[dict[str, Any]]) -> dict[str, int]:
    """Each text's meaning group: the two texts of a pair labeled ``hit`` share one."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for pair in pairs:
        find(pair["a"]), find(pair["b"])
        if pair["hit"]:
            parent[find(pair["a"])] = find(pair["b"])
    roots: dict[str, int] = {}
    return {text: roots.setdefault(find(text), len(roots)) for text in parent}


OPENINGS = ("", "  ")
"""Answers to one meaning group differ in spacing and case only: the agreement check reads
an answer worded otherwise as a disagreement (docs/cache.md)."""


CHANGED = 10_000
"""After the replica changes (a new model version), a third of the groups get another
answer: section ``CHANGED + group`` instead of ``group``."""


def answer_text(group: int, opening: str, *, changed: bool = False) -> str:
    section = CHANGED + group if changed and group % 3 == 0 else group
    return (
        f"{opening}The answer to question {group} is explained in section {section} of the "
        "guide, with a worked example and the steps to follow."
    )


def section(response: bytes) -> int:
    content = json.loads(response)["choices"][0]["message"]["content"]
    return int(content.lower().split("section ")[1].split()[0])


def answer(group: int, rng: random.Random, *, changed: bool = False) -> bytes:
    """The replica's answer for a meaning group, sometimes spaced or cased otherwise."""
    content = answer_text(group, rng.choice(OPENINGS), changed=changed)
    if rng.random() < 0.5:
        content = content.upper()
    body = {
        "id": "x",
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
    }
    return json.dumps(body).encode()


@dataclass
class Tally:
    served: int = 0
    wrong: int = 0
    recent: list[bool] = field(default_factory=list)

    def add(self, wrong: bool) -> None:
        self.served += 1
        self.wrong += wrong
        self.recent.append(wrong)
        del self.recent[:-2000]


def stream(pairs: list[dict[str, Any]], teams: int, rng: random.Random) -> list[tuple[str, str]]:
    """(team, text): per team, first questions before second ones, and repeats."""
    per_team: list[list[tuple[str, str]]] = []
    for t in range(teams):
        team = f"team-{t}"
        order = rng.sample(pairs, len(pairs))
        firsts = [(team, p["a"]) for p in order]
        seconds = [(team, p["b"]) for p in rng.sample(order, len(order))]
        events = firsts[: len(firsts) // 2]
        for event in firsts[len(firsts) // 2 :] + seconds:
            events.append(event)
            if rng.random() < 0.1:
                events.append(rng.choice(events))  # asked again
        per_team.append(events)
    out: list[tuple[str, str]] = []
    while any(per_team):  # teams' traffic interleaved
        for events in per_team:
            if events:
                out.extend(events[:25])
                del events[:25]
    return out


async def replay(
    events: list[tuple[str, str]],
    group: dict[str, int],
    embedder: TableEmbedder,
    *,
    settings: CacheSettings,
    report_every: int,
    change_at: int | None,
) -> None:
    rng = random.Random(7)
    store = MemoryCacheStore(
        dimensions=embedder.dimensions,
        max_bytes=1024 * 1024 * 1024,
        max_entries_per_namespace=100_000,
    )
    cache = ResponseCache(
        settings=settings, store=store, embedder=embedder, metrics=GatewayMetrics()
    )
    await cache.start()  # the verifier's judge, when it is on
    bound = cache.bound
    assert bound is not None
    semantic, exact = Tally(), 0
    started = time.perf_counter()
    print(
        f"{'asked':>7} {'served':>7} {'wrong':>6} {'true rate':>10} {'last 2000':>10} "
        f"{'estimate':>9} {'bound':>7} {'threshold':>9} {'state':>8} {'re-asked':>9}"
    )
    for step, (team, text) in enumerate(events, start=1):
        changed = change_at is not None and step >= change_at
        if step == change_at:
            print(f"{'':7} the replica changes: a third of the questions get other answers")
        lookup = await cache.lookup(request_for(text), team=team, version="1", headers={})
        if lookup.result is Result.HIT:
            assert lookup.entry is not None
            truth = section(answer(group[text], rng, changed=changed))
            if lookup.similarity == 1.0 and lookup.entry.text == text:
                exact += 1
            else:
                semantic.add(section(lookup.entry.response) != truth)
        else:
            response = answer(group[text], rng, changed=changed)
            cache.store(
                lookup,
                response=response,
                stream=False,
                version="1",
                reported="1",
                team=team,
                subjects=(f"team:{team}",),
            )
            await cache.drain()
        if step % report_every == 0 or step == len(events):
            e = bound.estimate(MODEL, ALL_TEAMS)
            ((_, would, asked),) = list(bound.reasked()) or [(MODEL, 0, 0)]
            recent = sum(semantic.recent) / len(semantic.recent) if semantic.recent else 0.0
            print(
                f"{step:7d} {semantic.served:7d} {semantic.wrong:6d} "
                f"{semantic.wrong / max(semantic.served, 1):10.2%} {recent:10.2%} "
                f"{e.rate:9.2%} {e.upper:7.2%} {e.threshold or 0:9.2f} {e.state.value:>8} "
                f"{asked / max(would, 1):9.2%}"
            )
    await cache.close()
    print(
        f"  {len(events)} questions in {time.perf_counter() - started:.0f}s: {exact} exact hits, "
        f"{semantic.served} semantic hits of which {semantic.wrong} wrong "
        f"({semantic.wrong / max(semantic.served, 1):.2%}; target {settings.max_wrong_rate:.2%})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--teams", type=int, default=40)
    parser.add_argument("--target", type=float, default=0.01)
    parser.add_argument("--audit", type=float, default=0.05)
    parser.add_argument("--report-every", type=int, default=5000)
    args = parser.parse_args()
    pairs = load_pairs("tune")
    group = groups(pairs)
    answers = [
        answer_text(g, o, changed=c)
        for g in set(group.values())
        for o in OPENINGS
        for c in (False, True)
    ]
    table = embed_all(sorted(group) + sorted(answers))  # the checks embed the answers
    events = stream(pairs, args.teams, random.Random(1))
    print(
        f"{len(pairs)} labeled pairs, {len(group)} texts in {len(set(group.values()))} meaning "
        f"groups; {len(events)} questions from {args.teams} teams"
    )
    change_at = int(len(events) * 0.75)
    for verify, change in ((True, None), (True, change_at), (False, None)):
        settings = CacheSettings(
            enabled=True, verify=verify, max_wrong_rate=args.target, audit_share=args.audit
        )
        judge = "the verifier" if verify else "plain cosine (verifier off)"
        then = f"; the replica changes at question {change}" if change else ""
        print(
            f"\nsemantic matches judged by {judge}; bound {args.target:.1%}, "
            f"audit {args.audit:.0%}{then}"
        )
        run = replay(
            events,
            group,
            TableEmbedder(table),
            settings=settings,
            report_every=args.report_every,
            change_at=change,
        )
        asyncio.run(run)


if __name__ == "__main__":
    main()
