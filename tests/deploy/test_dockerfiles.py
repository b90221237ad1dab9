"""The images' Dockerfiles, read as Docker would read them (no engine here): several
stages, pinned base images, and a final image that runs as a non-root user."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

DOCKER = Path(__file__).resolve().parents[2] / "docker"
COMPONENTS = {"gateway", "operator", "serving", "trainer", "mlflow"}
# Images published as targets of one Dockerfile.
FINAL_STAGES = {"serving": ["cpu", "vllm"]}


@dataclass
class Stage:
    name: str
    base: str
    users: list[str] = field(default_factory=list)
    copies_from: list[str] = field(default_factory=list)


def _instructions(text: str) -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for raw in joined.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def parse(path: Path) -> tuple[dict[str, str], list[Stage]]:
    """Global ARG defaults and the stages, with ${ARG} resolved in FROM lines."""
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for word, rest in _instructions(path.read_text()):
        if word == "ARG" and not stages:
            name, _, default = rest.partition("=")
            args[name] = default.strip('"')
        elif word == "FROM":
            parts = rest.split()
            base = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), parts[0])
            name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else str(len(stages))
            stages.append(Stage(name=name, base=base))
        elif word == "USER":
            stages[-1].users.append(rest)
        elif word == "COPY" and "--from=" in rest:
            stages[-1].copies_from.append(re.search(r"--from=(\S+)", rest).group(1))  # type: ignore[union-attr]
    return args, stages


def _resolve_base(stage: Stage, stages: list[Stage]) -> str:
    names = {s.name: s for s in stages}
    while stage.base in names:
        stage = names[stage.base]
    return stage.base


def test_every_component_has_a_dockerfile() -> None:
    assert {p.name.removesuffix(".Dockerfile") for p in DOCKER.glob("*.Dockerfile")} == COMPONENTS


@pytest.mark.parametrize("component", sorted(COMPONENTS))
def test_dockerfile_is_multi_stage_pinned_and_non_root(component: str) -> None:
    _, stages = parse(DOCKER / f"{component}.Dockerfile")
    assert len(stages) >= 2, f"{component}: a build stage and a runtime stage"
    for stage in stages:
        base = _resolve_base(stage, stages)
        image, _, tag = base.rpartition(":")
        assert image and "$" not in base, f"{component}/{stage.name}: unresolved base {base!r}"
        assert re.search(r"\d+\.\d+\.\d+", tag) or "@sha256:" in base, (
            f"{component}/{stage.name}: base image {base!r} is not pinned to an exact version"
        )
    finals = [s for s in stages if s.name in FINAL_STAGES.get(component, [stages[-1].name])]
    assert finals
    for final in finals:
        assert final.copies_from, f"{component}/{final.name}: the runtime copies the build's output"
        assert final.users, f"{component}/{final.name}: no USER, so the image runs as root"
        user = final.users[-1].split(":")[0]
        assert user not in {"root", "0"}, f"{component}/{final.name} runs as {user}"
        assert user.isdigit(), "a numeric user lets Kubernetes check runAsNonRoot"


def test_images_run_as_the_chart_user() -> None:
    """The chart's pods run as 10001: the images' user must match for files it owns."""
    for path in DOCKER.glob("*.Dockerfile"):
        _, stages = parse(path)
        for stage in stages:
            for user in stage.users:
                assert user == "10001:10001", f"{path.name}: USER {user}"
