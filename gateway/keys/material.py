"""API key material: generation and the keyed hash under which keys are stored."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

KEY_PREFIX = "sk-llmops-"
KEY_BYTES = 32
DISPLAY_CHARS = 6
_WELL_FORMED = re.compile(re.escape(KEY_PREFIX) + r"[A-Za-z0-9_-]{43}")


def generate() -> str:
    """A new API key: 32 random bytes, URL-safe base64, behind a recognisable prefix."""
    raw = base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).rstrip(b"=").decode()
    return KEY_PREFIX + raw


def well_formed(key: str) -> bool:
    """Whether ``key`` has the shape of a key :func:`generate` makes (checked before any lookup)."""
    return _WELL_FORMED.fullmatch(key) is not None


def new_key_id() -> str:
    return "key_" + secrets.token_hex(8)


def display_prefix(key: str) -> str:
    """What listings show of a key: enough to recognise it, useless to an attacker."""
    return key[: len(KEY_PREFIX) + DISPLAY_CHARS]


class KeyHasher:
    """HMAC-SHA256 under a server secret: a stolen table alone cannot be brute-forced."""

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()

    def digest(self, key: str) -> str:
        return hmac.new(self._secret, key.encode(), hashlib.sha256).hexdigest()

    @staticmethod
    def matches(stored: str, computed: str) -> bool:
        return hmac.compare_digest(stored.encode(), computed.encode())
