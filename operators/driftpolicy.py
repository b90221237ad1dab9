"""Whether a drift check's result starts a retrain: a pure decision.

The check's JSON (``llmops drift check --json``) is read for ``drift_detected``,
``drift_share`` and ``samples`` (``sample_size``/``current_rows`` also accepted), and
optionally ``retrain_data`` (files of the drifted window to train on). A result is
past the policy when it has at least ``minSamples`` samples and the check flagged drift
or its drift share reached ``thresholds.driftShare``. A drift *episode* runs from the
first drifted result after a clean one; each episode starts at most one retrain, and
no retrain starts within ``cooldown`` of the last. Users' feedback (``feedback.new`` in
the JSON, the items given since the last feedback retrain) starts a DPO retrain of its
own past ``feedback.minNew``, with its own cooldown.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def seconds(duration: str) -> int:
    match = _DURATION.match(duration.strip())
    if match is None:
        raise ValueError(f"{duration!r} is not a duration like 30m, 24h or 7d")
    return int(match[1]) * _UNITS[match[2]]


@dataclass(frozen=True, slots=True)
class CheckResult:
    drifted: bool
    share: float | None
    samples: int | None
    retrain_data: tuple[str, ...]
    features: tuple[tuple[str, float], ...] = ()
    """Each feature's drift score, as the check reported them."""


def read_result(raw: Mapping[str, Any], *, share_threshold: float, min_samples: int) -> CheckResult:
    """The check's JSON as a verdict under the monitor's thresholds."""
    share = raw.get("drift_share", raw.get("share"))
    samples = next(
        (raw[k] for k in ("samples", "sample_size", "current_rows") if raw.get(k) is not None),
        None,
    )
    flagged = raw.get("drift_detected", raw.get("drifted"))
    drifted = bool(flagged) if flagged is not None else False
    if share is not None and float(share) >= share_threshold:
        drifted = True
    if samples is not None and int(samples) < min_samples:
        drifted = False
    data = raw.get("retrain_data") or []
    features = tuple(
        (str(f["feature"]), float(f["score"]))
        for f in raw.get("features") or []
        if isinstance(f, Mapping) and f.get("feature") and isinstance(f.get("score"), int | float)
    )
    return CheckResult(
        drifted=drifted,
        share=float(share) if share is not None else None,
        samples=int(samples) if samples is not None else None,
        retrain_data=tuple(str(d) for d in data),
        features=features,
    )


@dataclass(frozen=True, slots=True)
class RetrainDecision:
    retrain: bool
    episode: str | None
    """The drift episode the result belongs to (``None`` when it shows no drift)."""
    reason: str


def episode_id(at: datetime.datetime) -> str:
    return at.strftime("%Y%m%d%H%M%S")


def decide(
    result: CheckResult,
    *,
    now: datetime.datetime,
    current_episode: str | None,
    last_episode_retrained: str | None,
    last_retrain: datetime.datetime | None,
    cooldown_seconds: int,
) -> RetrainDecision:
    """Retrain or not, for ``result`` seen at ``now`` after the monitor's history."""
    if not result.drifted:
        return RetrainDecision(False, None, "NoDrift")
    episode = current_episode or episode_id(now)
    if last_episode_retrained == episode:
        return RetrainDecision(False, episode, "AlreadyRetrained")
    if last_retrain is not None and (now - last_retrain).total_seconds() < cooldown_seconds:
        return RetrainDecision(False, episode, "CoolingDown")
    return RetrainDecision(True, episode, "DriftDetected")


def feedback_new(raw: Mapping[str, Any]) -> int | None:
    """The feedback items the check counted since the last feedback retrain, if it did."""
    found = raw.get("feedback")
    if not isinstance(found, Mapping) or not isinstance(found.get("new"), int):
        return None
    return int(found["new"])


def decide_feedback(
    new: int | None,
    *,
    now: datetime.datetime,
    min_new: int,
    last_retrain: datetime.datetime | None,
    cooldown_seconds: int,
    drift_retrain: bool,
    running: bool = False,
) -> RetrainDecision:
    """Whether users' feedback starts a DPO retrain now: never beside a drift retrain
    started by the same check, nor while a retrain of the monitor's is still running (one
    new version at a time)."""
    if new is None:
        return RetrainDecision(False, None, "FeedbackNotCounted")
    if new < min_new:
        return RetrainDecision(False, None, "FeedbackBelowMinimum")
    if drift_retrain:
        return RetrainDecision(False, None, "DriftRetrainFirst")
    if running:
        return RetrainDecision(False, None, "RetrainRunning")
    if last_retrain is not None and (now - last_retrain).total_seconds() < cooldown_seconds:
        return RetrainDecision(False, None, "FeedbackCoolingDown")
    return RetrainDecision(True, episode_id(now), "FeedbackGiven")
