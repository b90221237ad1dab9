"""Request ids: what an answer is called when its user gives feedback on it.

An id names the request (its reservation, unique per gateway process and request) and
is bound to the team that made it by a keyed MAC (the key-hash secret, shared by every
replica): any replica can tell, without a lookup, whether an id belongs to the team
that presents it, so a team can never give feedback on, or learn of, another team's
requests. The id is the answer's ``x-llmops-request-id`` header and its ``id`` field
(the replica's own id is replaced, in JSON answers, every stream chunk and cache hits).
"""

from __future__ import annotations

import hashlib
import hmac
import re

import orjson

PREFIX = "req-"
MAC_CHARS = 16
"""Hex characters of the MAC kept: 64 bits, not worth guessing."""
_SHAPE = re.compile(r"^req-(?P<reservation>[0-9a-f]{16}-[0-9a-f]{1,16})-(?P<mac>[0-9a-f]{16})$")


class RequestIds:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"llmops request ids\0" + secret.encode()).digest()

    def _mac(self, reservation: str, team: str) -> str:
        message = f"{team}\0{reservation}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:MAC_CHARS]

    def mint(self, reservation: str, team: str) -> str:
        return f"{PREFIX}{reservation}-{self._mac(reservation, team)}"

    def belongs_to(self, request_id: str, team: str) -> bool:
        """Whether ``request_id`` was minted for a request of ``team``."""
        found = _SHAPE.match(request_id)
        if found is None:
            return False
        return hmac.compare_digest(found["mac"], self._mac(found["reservation"], team))


def renamed(data: bytes, old: object, new: str) -> bytes:
    """``data`` (a JSON answer or one SSE event) with its ``id`` value ``old`` replaced by
    ``new``: the first occurrence of the quoted value, which is the answer's own id."""
    if not isinstance(old, str) or not old:
        return data
    return data.replace(orjson.dumps(old), orjson.dumps(new), 1)
