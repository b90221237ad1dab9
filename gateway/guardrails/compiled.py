"""Policies made ready to run: each team's policy merged over the default and compiled
once, swapped whole when the policies change (a request keeps the one it took)."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.guardrails.checks import TextChecks
from gateway.guardrails.policy import (
    PII_KINDS,
    SECRET_KINDS,
    GuardrailSettings,
    InjectionCheck,
    Policy,
)


@dataclass(frozen=True, slots=True)
class TeamGuard:
    """One team's policy, compiled."""

    inputs: TextChecks
    injection: InjectionCheck | None
    max_chars: int | None
    max_messages: int | None
    outputs: TextChecks

    @classmethod
    def of(cls, policy: Policy) -> TeamGuard:
        i, o = policy.input, policy.output
        return cls(
            inputs=TextChecks(
                [("pii", i.pii, PII_KINDS), ("secrets", i.secrets, SECRET_KINDS)], i.deny
            ),
            injection=i.injection,
            max_chars=i.max_chars,
            max_messages=i.max_messages,
            outputs=TextChecks(
                [("pii", o.pii, PII_KINDS), ("secrets", o.secrets, SECRET_KINDS)], o.deny
            ),
        )

    @property
    def checks_input(self) -> bool:
        return bool(self.inputs.active or self.injection or self.max_chars or self.max_messages)


class Policies:
    """Every team's compiled policy (made on a team's first request)."""

    def __init__(self, settings: GuardrailSettings) -> None:
        self.settings = settings
        self._default = TeamGuard.of(settings.default)
        self._teams: dict[str, TeamGuard] = {}

    def for_team(self, team: str) -> TeamGuard:
        if team not in self.settings.teams:
            return self._default
        found = self._teams.get(team)
        if found is None:
            found = self._teams[team] = TeamGuard.of(self.settings.policy_for(team))
        return found
