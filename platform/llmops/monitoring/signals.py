"""The signals a drift check compares, by name and kind (no heavy imports: the settings
check names against these).

- **data** signals describe what users send and what the model answers: they start
  retraining when they drift;
- **operational** signals describe the serving system (a busy machine, a failing
  replica, a cold cache): they raise an alert and never start retraining.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, get_args


class Kind(StrEnum):
    DATA = "data"
    OPERATIONAL = "operational"


Name = Literal[
    "prompt_length",
    "completion_length",
    "language",
    "refusals",
    "topic",
    "latency",
    "ttft",
    "errors",
    "cache_hits",
]
DATA: tuple[Name, ...] = ("prompt_length", "completion_length", "language", "refusals", "topic")
OPERATIONAL: tuple[Name, ...] = ("latency", "ttft", "errors", "cache_hits")
KINDS: dict[str, Kind] = {
    **dict.fromkeys(DATA, Kind.DATA),
    **dict.fromkeys(OPERATIONAL, Kind.OPERATIONAL),
}
assert set(KINDS) == set(get_args(Name))
