"""Credentials the gateway sends to upstreams that want them (hosted OpenAI-compatible
services), per upstream, from an environment variable or a file (a mounted Secret).

An upstream's URL picks the credential with the longest matching ``url_prefix``. A file
is read again when it changes, so a rotated Secret is used without a restart. Values
never reach a log line or an error: only the prefix that matched is ever named.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from gateway.settings import UpstreamCredential

log = logging.getLogger("llmops.gateway.credentials")


@dataclass
class _Source:
    spec: UpstreamCredential
    value: str | None = None
    mtime: float | None = None

    def current(self) -> str | None:
        if self.spec.api_key_env is not None:
            return self.spec.env_key
        assert self.spec.api_key_file is not None
        try:
            mtime = self.spec.api_key_file.stat().st_mtime
            if mtime != self.mtime:
                self.value = self.spec.api_key_file.read_text().strip() or None
                self.mtime = mtime
        except OSError:
            log.warning("upstream credential unreadable", extra={"prefix": self.spec.url_prefix})
        return self.value  # after a failed read, the last one read, if any


class UpstreamCredentials:
    def __init__(self, specs: list[UpstreamCredential]) -> None:
        self._sources = sorted(
            (_Source(s) for s in specs), key=lambda s: len(s.spec.url_prefix), reverse=True
        )

    def headers_for(self, url: str) -> dict[str, str]:
        """The header that authenticates the gateway to the upstream at ``url`` (none when
        no credential matches, or its value is missing)."""
        for source in self._sources:
            if url.startswith(source.spec.url_prefix):
                value = source.current()
                if value is None:
                    return {}
                scheme = source.spec.scheme
                return {source.spec.header: f"{scheme} {value}" if scheme else value}
        return {}
