"""Which limits hold a caller, and how an admission reads in HTTP headers."""

from __future__ import annotations

import math

from gateway.keys.store import Principal
from gateway.ratelimit.base import Admission, Limit, LimitKind, LimitState
from gateway.spend import money

PREFIX = "llmops:rl"


def limits_for(principal: Principal, window_seconds: float) -> tuple[Limit, ...]:
    """The key's and the team's limits that are set, requests first.

    Keys of one team share a Redis hash tag, so a cluster keeps one admission's
    keys on one node.
    """
    team = f"{PREFIX}:{{t:{principal.team}}}"
    candidates = (
        ("key_rpm", f"{team}:key:{principal.key_id}:req", LimitKind.REQUESTS, principal.key_rpm),
        ("team_rpm", f"{team}:team:req", LimitKind.REQUESTS, principal.team_rpm),
        ("key_tpm", f"{team}:key:{principal.key_id}:tok", LimitKind.TOKENS, principal.key_tpm),
        ("team_tpm", f"{team}:team:tok", LimitKind.TOKENS, principal.team_tpm),
    )
    return tuple(
        Limit(name=name, key=key, kind=kind, limit=value, window_seconds=window_seconds)
        for name, key, kind, value in candidates
        if value is not None
    )


def too_small_for(limits: tuple[Limit, ...], tokens: int) -> Limit | None:
    """A token limit that could never admit a request of ``tokens``, if there is one."""
    for limit in limits:
        if limit.kind is LimitKind.TOKENS and tokens > limit.limit:
            return limit
    return None


def go_duration(seconds: float) -> str:
    """``1m30s``, ``2.5s``, ``120ms``: the format of OpenAI's reset headers."""
    if seconds < 1:
        return f"{max(0, round(seconds * 1000))}ms"
    minutes, rest = divmod(seconds, 60)
    text = f"{rest:.3f}".rstrip("0").rstrip(".") + "s"
    return f"{int(minutes)}m{text}" if minutes else text


def _tightest(states: tuple[LimitState, ...], kind: LimitKind) -> LimitState | None:
    of_kind = [s for s in states if s.limit.kind is kind]
    return min(of_kind, key=lambda s: (s.remaining, -s.reset_seconds)) if of_kind else None


def headers(admission: Admission) -> dict[str, str]:
    """``x-ratelimit-*`` for the tightest limit of each kind (a budget's amounts in the
    currency), and ``Retry-After`` on refusal."""
    out: dict[str, str] = {}
    for kind in LimitKind:
        state = _tightest(admission.states, kind)
        if state is None:
            continue
        show = money.text if kind is LimitKind.BUDGET else str
        out[f"x-ratelimit-limit-{kind.value}"] = show(state.limit.limit)
        out[f"x-ratelimit-remaining-{kind.value}"] = show(state.remaining)
        out[f"x-ratelimit-reset-{kind.value}"] = go_duration(state.reset_seconds)
    if not admission.admitted:
        out["retry-after"] = str(max(1, math.ceil(admission.retry_after_seconds)))
        out["retry-after-ms"] = str(max(1, math.ceil(admission.retry_after_seconds * 1000)))
    return out
