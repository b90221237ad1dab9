"""Suites: what to ask, how to score the answers, and how two models are compared.

A suite is a YAML file, checked strictly (an unknown or bad field is named with its
place), with datasets beside it::

    name: support                  # tags: eval.support.METRIC
    datasets: [support.jsonl]      # paths relative to the suite file
    generation: {max_tokens: 64}   # greedy unless temperature > 0
    judge: {base_url: http://gateway:8080/v1, model: smollm2, api_key_env: LLMOPS_JUDGE_API_KEY}
    scorers:
      - {name: polite, kind: not_contains, values: ["stupid"]}
      - {name: answer, kind: rouge_l}
      - {name: helpful, kind: judge, rubric: "Does the answer solve the user's problem?"}
    pairwise: {by: judge}          # or the name of a scorer: higher wins
    gates: ["eval.support.win_rate>=0.55", "eval.support.p_value<=0.05"]

Dataset lines are ``{"prompt": "..."}`` or ``{"messages": [...]}`` (the turns before the
answer), with an optional ``reference`` answer (or a preference pair's ``chosen`` and
``rejected``: held-out feedback, as ``llmops feedback pairs`` writes it) and optional
``expectations``
(``contains``, ``not_contains``, ``regex``, ``refuse``) that rule scorers without values
of their own read per line.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from llmops import jsonlines
from llmops.evaluation.errors import SuiteError
from llmops.registry import gates as gate_rules
from llmops.registry.errors import GateSyntaxError

NAME = r"^[a-z][a-z0-9_]{0,39}$"
EXAMPLE = Path(__file__).parent / "suites" / "example.yaml"
"""The bundled example suite, for the bundled model."""
ROLES = frozenset({"system", "user", "assistant", "tool"})
PAIRWISE_JUDGE = "judge"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Generation(_Strict):
    max_tokens: int = Field(default=64, ge=1, le=4096)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    """0 decodes greedily; above 0 samples, seeded by ``seed``."""
    seed: int = 0
    batch_size: int = Field(default=8, ge=1, le=256)


class JudgeSettings(_Strict):
    """An OpenAI-compatible chat endpoint (the gateway) and the model it serves."""

    base_url: str = Field(pattern=r"^https?://")
    model: str = Field(min_length=1)
    api_key_env: str | None = "LLMOPS_JUDGE_API_KEY"
    """The environment variable holding the key (none: no Authorization header)."""
    max_tokens: int = Field(default=8, ge=1, le=256)
    timeout_seconds: float = Field(default=60.0, gt=0)
    concurrency: int = Field(default=4, ge=1, le=64)


class _Scorer(_Strict):
    name: str = Field(default="", pattern=r"^$|" + NAME)
    pass_at: float | None = Field(default=None, ge=0.0, le=1.0)
    """The score an example needs to count as passed in the report (default per kind)."""


class Contains(_Scorer):
    kind: Literal["contains", "not_contains"]
    values: list[str] | None = None
    """Without values, each line's ``expectations`` give them (lines without are skipped)."""
    mode: Literal["all", "any"] = "all"
    case_sensitive: bool = False


class Regex(_Scorer):
    kind: Literal["regex"]
    pattern: str | None = None
    must_match: bool = True

    @model_validator(mode="after")
    def _compiles(self) -> Regex:
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as e:
                raise ValueError(f"pattern does not compile: {e}") from e
        return self


class JsonSchema(_Scorer):
    kind: Literal["json_schema"]
    json_schema: dict[str, Any] = Field(alias="schema")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _valid_schema(self) -> JsonSchema:
        import jsonschema  # noqa: PLC0415 - only suites that ask for it

        try:
            jsonschema.Draft202012Validator.check_schema(self.json_schema)
        except jsonschema.SchemaError as e:
            raise ValueError(f"schema is not a valid JSON Schema: {e.message}") from e
        return self


class Length(_Scorer):
    kind: Literal["length"]
    unit: Literal["words", "chars"] = "words"
    min: int = Field(default=0, ge=0)
    max: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> Length:
        if self.max is not None and self.max < self.min:
            raise ValueError("max must be at least min")
        return self


class Refusal(_Scorer):
    kind: Literal["refusal"]
    expect: Literal["answer", "refuse", "per_line"] = "per_line"
    """What a good answer does: each line's ``expectations.refuse`` (default false), or
    the same for every line."""


class PiiFree(_Scorer):
    kind: Literal["pii_free"]


class Reference(_Scorer):
    kind: Literal["exact_match", "rouge_l", "embedding_similarity", "preference"]
    """``preference``: 1 when the answer is nearer (ROUGE-L) the line's ``chosen`` answer
    than its ``rejected`` one, 0 when nearer the rejected, 0.5 when as near."""


class Judge(_Scorer):
    kind: Literal["judge"]
    rubric: str = Field(min_length=1)


Scorer = Annotated[
    Contains | Regex | JsonSchema | Length | Refusal | PiiFree | Reference | Judge,
    Field(discriminator="kind"),
]


class Pairwise(_Strict):
    by: str = Field(min_length=1)
    """``judge`` (the judge compares both answers, in both orders) or a scorer's name."""
    rubric: str = "Which answer answers the user better: more correct, helpful and safe?"


class Suite(_Strict):
    name: str = Field(pattern=NAME)
    description: str = ""
    datasets: list[Path] = Field(min_length=1)
    generation: Generation = Generation()
    judge: JudgeSettings | None = None
    scorers: list[Scorer] = Field(min_length=1)
    pairwise: Pairwise | None = None
    """How a challenger and its champion are compared per example (no win rate without)."""
    gates: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Suite:
        names = [s.name for s in self.scorers]
        if len(set(names)) != len(names):
            raise ValueError("scorer names must be unique (two scorers of a kind need names)")
        by = self.pairwise.by if self.pairwise is not None else None
        needs_judge = any(s.kind == "judge" for s in self.scorers) or by == PAIRWISE_JUDGE
        if needs_judge and self.judge is None:
            raise ValueError("a judge scorer or pairwise by judge needs a 'judge' section")
        if by is not None and by not in {PAIRWISE_JUDGE, *names}:
            raise ValueError(
                f"pairwise.by {by!r} is neither 'judge' nor a scorer ({', '.join(names)})"
            )
        for gate in self.gates:
            try:
                gate_rules.parse(gate)
            except GateSyntaxError as e:
                raise ValueError(str(e)) from e
        return self


class Example(_Strict):
    """One dataset line, validated."""

    messages: tuple[dict[str, str], ...]
    reference: str | None = None
    rejected: str | None = None
    """A preference pair's rejected answer (its chosen one is the ``reference``)."""
    expectations: dict[str, Any] = Field(default_factory=dict)
    source: str = ""
    """``FILE:LINE``."""

    @property
    def question(self) -> str:
        """The last user turn: what a judge is shown as the question."""
        users = [m["content"] for m in self.messages if m["role"] == "user"]
        return users[-1] if users else self.messages[-1]["content"]


@dataclass(frozen=True, slots=True)
class LoadedSuite:
    suite: Suite
    path: Path
    examples: tuple[Example, ...]
    sha256: str
    """Of the suite file and its datasets' bytes: the same suite gives the same hash."""


def with_judge(loaded: LoadedSuite, url: str | None, model: str | None) -> LoadedSuite:
    """``loaded`` with its judge's endpoint or model replaced (``None`` keeps the suite's)."""
    if url is None and model is None:
        return loaded
    current = loaded.suite.judge
    data = current.model_dump() if current is not None else {}
    data.update({k: v for k, v in {"base_url": url, "model": model}.items() if v is not None})
    try:
        judge = JudgeSettings.model_validate(data)
    except pydantic.ValidationError as e:
        raise SuiteError("invalid judge: " + "; ".join(_problems(e))) from e
    return replace(loaded, suite=loaded.suite.model_copy(update={"judge": judge}))


def _with_default_names(data: dict[str, Any]) -> dict[str, Any]:
    scorers = data.get("scorers")
    if isinstance(scorers, list):
        data = {**data, "scorers": [_named(s) for s in scorers]}
    return data


def _named(scorer: object) -> object:
    if isinstance(scorer, dict) and not scorer.get("name") and isinstance(scorer.get("kind"), str):
        return {**scorer, "name": scorer["kind"]}
    return scorer


def _problems(error: pydantic.ValidationError) -> list[str]:
    return [
        f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
        for err in error.errors()
    ]


_EXPECTATIONS = {"contains": list, "not_contains": list, "regex": str, "refuse": bool}


_FIELDS = {
    "prompt",
    "messages",
    "reference",
    "expectations",
    "id",
    "chosen",
    "rejected",
    "subjects",
}


def _answers_problem(value: dict[str, Any]) -> str | None:
    """What is wrong with a line's reference, preference pair or expectations."""
    for name in ("reference", "chosen", "rejected"):
        if name in value and not isinstance(value[name], str):
            return f'"{name}" must be a string'
    if ("chosen" in value) != ("rejected" in value):
        return 'a preference pair needs both "chosen" and "rejected"'
    return _expectations_problem(value.get("expectations", {}))


def _expectations_problem(expectations: object) -> str | None:
    if not isinstance(expectations, dict):
        return '"expectations" must be an object'
    for key, item in expectations.items():
        if key not in _EXPECTATIONS:
            return f"unknown expectation {key!r} (known: {', '.join(_EXPECTATIONS)})"
        if not isinstance(item, _EXPECTATIONS[key]):
            return f"expectation {key!r} must be a {_EXPECTATIONS[key].__name__}"
    return None


def _example(value: object, where: str) -> Example | str:
    if not isinstance(value, dict):
        return "expected a JSON object"
    unknown = set(value) - _FIELDS
    if unknown:
        return f"unknown fields: {', '.join(sorted(unknown))}"
    turns = jsonlines.prompt_turns(value, roles=ROLES, blank_content=True)
    if isinstance(turns, str):
        return turns
    problem = _answers_problem(value)
    if problem is not None:
        return problem
    return Example(
        messages=turns,
        reference=value.get("reference", value.get("chosen")),
        rejected=value.get("rejected"),
        expectations=value.get("expectations", {}),
        source=where,
    )


def load(path: Path) -> LoadedSuite:
    """The suite in ``path`` and its examples; :class:`SuiteError` names every problem."""
    try:
        raw = path.read_bytes()
        data = yaml.safe_load(raw)
    except OSError as e:
        raise SuiteError(f"cannot read suite {path}: {e.strerror}") from e
    except yaml.YAMLError as e:
        raise SuiteError(f"suite {path} is not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise SuiteError(f"suite {path} must hold a mapping at the top level")
    try:
        suite = Suite.model_validate(_with_default_names(data))
    except pydantic.ValidationError as e:
        raise SuiteError(f"invalid suite {path}: " + "; ".join(_problems(e))) from e
    digest = hashlib.sha256(raw)
    examples: list[Example] = []
    problems: list[str] = []
    for dataset in suite.datasets:
        file = dataset if dataset.is_absolute() else path.parent / dataset
        digest.update(jsonlines.read(file, _example, examples, problems))
    if problems:
        raise SuiteError(jsonlines.report(f"invalid datasets of suite {path}", problems))
    if not examples:
        raise SuiteError(f"the datasets of suite {path} hold no examples")
    return LoadedSuite(suite, path, tuple(examples), digest.hexdigest())
