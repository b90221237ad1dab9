"""Generated token ids to streamed text: whole characters only, stop strings cut out.

Decoding one token at a time breaks characters that span tokens (byte-level BPE
splits an emoji over several), and a stop string may arrive over several tokens.
So a :class:`TextStream` decodes a short window of recent tokens and releases text
only when it ends in whole characters, and holds back any tail that could still
become a stop string.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

REPLACEMENT_CHARACTER = "\ufffd"


Decode = Callable[[list[int]], str]
"""Token ids to text, special tokens left out (for SmolLM2 pad and end are both <|im_end|>)."""


class IncrementalDecoder:
    """Token ids in, text deltas out (a delta is released once its characters are whole)."""

    def __init__(self, decode: Decode) -> None:
        self._decode = decode
        self._ids: list[int] = []
        self._prefix = 0  # start of the window decoded for context
        self._read = 0  # end of what has been released

    def push(self, token_id: int) -> str:
        self._ids.append(token_id)
        before = self._decode(self._ids[self._prefix : self._read])
        after = self._decode(self._ids[self._prefix :])
        if len(after) <= len(before) or after.endswith(REPLACEMENT_CHARACTER):
            return ""
        self._prefix, self._read = self._read, len(self._ids)
        return after[len(before) :]


class StopStrings:
    """Text in, text out up to (not including) the first stop string."""

    def __init__(self, stops: Sequence[str]) -> None:
        self._stops = tuple(stops)
        self._pending = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        """What of ``text`` (with held-back text before it) is safe to release now."""
        if self.stopped:
            return ""
        pending = self._pending + text
        cut = min((i for i in (pending.find(s) for s in self._stops) if i >= 0), default=-1)
        if cut >= 0:
            self.stopped = True
            self._pending = ""
            return pending[:cut]
        keep = self._longest_partial_stop(pending)
        self._pending = pending[len(pending) - keep :] if keep else ""
        return pending[: len(pending) - keep]

    def flush(self) -> str:
        """Release what was held back (the generation ended without a stop string)."""
        rest, self._pending = self._pending, ""
        return rest

    def _longest_partial_stop(self, text: str) -> int:
        """Length of the longest tail of ``text`` that begins some stop string."""
        best = 0
        for stop in self._stops:
            for n in range(min(len(stop) - 1, len(text)), best, -1):
                if stop.startswith(text[-n:]):
                    best = n
                    break
        return best


class TextStream:
    """One generation's tokens to its text deltas; knows when a stop string ended it."""

    def __init__(self, decode: Decode, stops: Sequence[str]) -> None:
        self._decoder = IncrementalDecoder(decode)
        self._stops = StopStrings(stops)

    @property
    def stopped(self) -> bool:
        return self._stops.stopped

    def push(self, token_id: int) -> str:
        return self._stops.feed(self._decoder.push(token_id))

    def flush(self) -> str:
        return self._stops.flush()
