"""Every file the packages read at run time is shipped in the wheel: an install that is
not editable (the images) has only what ``[tool.setuptools.package-data]`` names."""

from __future__ import annotations

import fnmatch
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = {
    "llmops": ROOT / "platform" / "llmops",
    "gateway": ROOT / "gateway",
    "operators": ROOT / "operators",
}


def _shipped(package: str, relative: str, rules: dict[str, list[str]]) -> bool:
    """Whether setuptools ships ``relative`` (a path inside ``package``'s tree)."""
    parts = relative.split("/")
    for depth in range(len(parts)):
        owner = ".".join([package, *parts[:depth]])
        inside = "/".join(parts[depth:])
        for key in ("*", owner):
            for pattern in rules.get(key, []):
                if key == "*" and "/" not in pattern and "/" in inside:
                    continue  # a "*" pattern matches files of each package's own folder
                if fnmatch.fnmatch(inside, pattern):
                    return True
    return False


def test_every_data_file_is_package_data() -> None:
    rules = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"
    ]
    tracked = subprocess.run(
        ["git", "ls-files", "platform/llmops", "gateway", "operators"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    missing = []
    for name in tracked:
        path = ROOT / name
        if path.suffix == ".py":
            continue
        package, source = next((p, s) for p, s in SOURCES.items() if path.is_relative_to(s))
        if not _shipped(package, path.relative_to(source).as_posix(), rules):
            missing.append(name)
    assert tracked and missing == []
