"""Whose request this is: the key, and the end user the client names.

An app that serves many people through one key names the person in OpenAI's ``user``
field or in the ``x-llmops-user`` header (the header wins: the app's own backend sets
it). The user is kept only as a keyed hash (HMAC-SHA256 under the gateway's
``key_hash_secret``, apart from key hashes), so that rows can be found for one person and
erased, but a stolen table does not name anyone.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from llmops.requestlog.table import subject_tags

USER_HEADER = "x-llmops-user"
MAX_USER_CHARS = 256
"""Longer user names are cut before hashing."""


@dataclass(frozen=True, slots=True)
class Subject:
    key_id: str
    user_hash: str | None
    """The end user's keyed hash; None when the client named nobody."""


class SubjectHasher:
    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()

    def user_hash(self, user: str) -> str:
        message = b"user\0" + user[:MAX_USER_CHARS].encode("utf-8", "replace")
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def subject(self, key_id: str, body: Mapping[str, Any], headers: Mapping[str, str]) -> Subject:
        user = headers.get(USER_HEADER) or body.get("user")
        if not isinstance(user, str) or not user.strip():
            return Subject(key_id, None)
        return Subject(key_id, self.user_hash(user.strip()))


def tags_of(team: str, subject: Subject | None) -> tuple[str, ...]:
    """The erasure tags of a request's data (:func:`llmops.requestlog.table.subject_tags`)."""
    if subject is None:
        return subject_tags(team, None, None)
    return subject_tags(team, subject.key_id, subject.user_hash)
