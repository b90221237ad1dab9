"""The canary's quality probe: fixed prompts sent to a version's replicas, answers checked."""

from __future__ import annotations

from collections.abc import Sequence

import aiohttp

from llmops.monitoring.settings import ProbeCase


class ChatProbe:
    """Share of probe prompts whose answer contains the expected text (greedy decoding)."""

    def __init__(self, model: str, cases: Sequence[ProbeCase], timeout_seconds: float = 60) -> None:
        self._model = model
        self._cases = tuple(cases)
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    async def __call__(self, upstreams: Sequence[str]) -> float | None:
        if not self._cases or not upstreams:
            return None
        passed = 0
        async with aiohttp.ClientSession(timeout=self._timeout) as session:
            for i, case in enumerate(self._cases):
                url = f"{upstreams[i % len(upstreams)].rstrip('/')}/chat/completions"
                body = {
                    "model": self._model,
                    "temperature": 0,
                    "max_tokens": 64,
                    "messages": [{"role": "user", "content": case.prompt}],
                }
                try:
                    async with session.post(url, json=body) as response:
                        data = await response.json() if response.status == 200 else {}
                except (aiohttp.ClientError, TimeoutError, ValueError):
                    continue  # an unanswered probe counts as failed
                choices = data.get("choices") or [{}]
                answer = str((choices[0].get("message") or {}).get("content") or "")
                passed += case.expect.lower() in answer.lower()
        return passed / len(self._cases)
