"""Guardrail policies: what each team's requests and answers are checked for, and what is
done on a find (``block``, ``mask``, ``flag``). A team's policy is the default one with
the team's own checks over it, check by check (``null`` turns one off for the team)."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from llmops.requestlog.redaction import CREDENTIAL_KINDS

PII_KINDS = frozenset(
    {
        "EMAIL_ADDRESS",
        "PHONE_NUMBER",
        "CREDIT_CARD",
        "IBAN_CODE",
        "IP_ADDRESS",
        "NATIONAL_ID",
        "DATE_OF_BIRTH",
        "ADDRESS",
        "PERSON",
    }
)
SECRET_KINDS = frozenset(CREDENTIAL_KINDS)


class Action(StrEnum):
    BLOCK = "block"
    """Refuse the request (400 ``content_policy_violation``), or cut the answer."""
    MASK = "mask"
    """Replace what was found by its kind (``<EMAIL_ADDRESS>``) and go on."""
    FLAG = "flag"
    """Go on unchanged; count it and log it."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


PolicyName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,63}$")]


class SpanCheck(_Strict):
    """Personal data or secrets, found by the request log's recognizers."""

    action: Action = Action.MASK
    kinds: list[str] | None = None
    """Only these kinds (``EMAIL_ADDRESS``, ``API_KEY``...); all of the check's by default."""


class PiiCheck(SpanCheck):
    @field_validator("kinds")
    @classmethod
    def _known(cls, kinds: list[str] | None) -> list[str] | None:
        return _known_kinds(kinds, PII_KINDS, "personal data")


class SecretCheck(SpanCheck):
    @field_validator("kinds")
    @classmethod
    def _known(cls, kinds: list[str] | None) -> list[str] | None:
        return _known_kinds(kinds, SECRET_KINDS, "secret")


def _known_kinds(kinds: list[str] | None, known: frozenset[str], what: str) -> list[str] | None:
    unknown = sorted(set(kinds or ()) - known)
    if unknown:
        raise ValueError(f"unknown {what} kinds {unknown}; known: {sorted(known)}")
    return kinds


class InjectionCheck(_Strict):
    """Prompt injection and jailbreak attempts, in users' messages and in the documents and
    tool results they carry (the system prompt, the application's own, is not checked)."""

    action: Literal[Action.BLOCK, Action.FLAG] = Action.BLOCK
    threshold: Annotated[float, Field(gt=0, lt=1)] | None = None
    """The detector's score from which a message is an attempt (default: the detector's
    own, chosen for precision)."""


class DenyRule(_Strict):
    """Text that must not pass: regular expressions, or terms (whole words, any case)."""

    name: PolicyName
    patterns: list[str] = Field(default_factory=list)
    terms: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)
    action: Action = Action.BLOCK

    @model_validator(mode="after")
    def _compiles(self) -> DenyRule:
        if not self.patterns and not self.terms:
            raise ValueError(f"deny rule {self.name!r}: give patterns or terms")
        for pattern in self.patterns:
            try:
                re.compile(pattern)
            except re.error as e:
                raise ValueError(f"deny rule {self.name!r}: bad pattern {pattern!r}: {e}") from e
        return self

    def regex(self) -> re.Pattern[str]:
        parts = list(self.patterns)
        parts += [rf"(?<!\w){re.escape(term)}(?!\w)" for term in self.terms]
        return re.compile("|".join(f"(?:{p})" for p in parts), re.IGNORECASE)


class InputPolicy(_Strict):
    pii: PiiCheck | None = None
    secrets: SecretCheck | None = None
    injection: InjectionCheck | None = None
    deny: list[DenyRule] = Field(default_factory=list)
    max_chars: Annotated[int, Field(ge=1)] | None = None
    """Characters of message text in one request, all messages together."""
    max_messages: Annotated[int, Field(ge=1)] | None = None
    """Messages (turns) in one chat request."""


class OutputPolicy(_Strict):
    pii: PiiCheck | None = None
    secrets: SecretCheck | None = None
    deny: list[DenyRule] = Field(default_factory=list)


class Policy(_Strict):
    input: InputPolicy = InputPolicy()
    output: OutputPolicy = OutputPolicy()

    def over(self, default: Policy) -> Policy:
        """This (a team's) policy over ``default``: each check the team names replaces the
        default's, the others stay."""
        return Policy(
            input=_overlay(default.input, self.input),
            output=_overlay(default.output, self.output),
        )

    @property
    def empty(self) -> bool:
        return self == Policy()


def _overlay(default: InputPolicy | OutputPolicy, own: InputPolicy | OutputPolicy) -> Any:
    given = {name: getattr(own, name) for name in own.model_fields_set}
    return default.model_copy(update=given)


class GuardrailSettings(_Strict):
    """Guardrails on requests and answers, per team (off until a policy names a check)."""

    default: Policy = Policy()
    """What every team's requests and answers are checked for."""
    teams: dict[str, Policy] = Field(default_factory=dict)
    """A team's own checks, over the default's (a check set to null is off for the team)."""
    file: Path | None = None
    """A YAML file holding ``default`` and ``teams`` (a mounted ConfigMap): read again when
    it changes, without a restart; an invalid version is refused and the last good one
    kept. It replaces ``default`` and ``teams`` above."""
    poll_seconds: Annotated[float, Field(gt=0, le=300)] = 2.0
    stream_window_chars: Annotated[int, Field(ge=16, le=4096)] = 128
    """Characters of a streamed answer held back so that a pattern split across chunks is
    still caught: what is found must fit in it, and it delays the stream by about a
    quarter of that many tokens."""
    detector_threads: Annotated[int, Field(ge=1, le=64)] = 1
    """Threads the injection detector reads in (its own: its load never holds the other
    checks back). One reads about 75 messages of 400 characters a second."""

    @property
    def needs_detector(self) -> bool:
        """Whether any policy checks for injections, or a file may (load the detector)."""
        policies = [self.default, *self.teams.values()]
        return self.file is not None or any(p.input.injection is not None for p in policies)

    def policy_for(self, team: str) -> Policy:
        own = self.teams.get(team)
        return own.over(self.default) if own is not None else self.default
