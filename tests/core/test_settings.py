"""Settings: a YAML file, overridden by LLMOPS_ variables, then by flags; errors that say where."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.settings import GatewaySettings
from llmops import settings
from llmops.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gateway.yaml"
    path.write_text(text)
    return path


def test_file_then_environment_then_overrides(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "redis_url: redis://file:6379/0\nport: 9000\nlimits: {default_max_tokens: 64, window_seconds: 30}\n"
        "models: [{name: m, upstreams: ['http://a:1/v1/']}]\n",
    )
    environ = {
        "LLMOPS_REDIS_URL": "redis://env:6379/0",
        "LLMOPS_LIMITS__DEFAULT_MAX_TOKENS": "128",
        "LLMOPS_PORT": "9100",
        "OTHER": "ignored",
    }
    loaded = settings.load(
        GatewaySettings, path, environ=environ, overrides={"port": 9200, "host": None}
    )
    assert loaded.redis_url == "redis://env:6379/0"
    assert loaded.limits.default_max_tokens == 128
    assert loaded.limits.window_seconds == 30  # the file's sibling value survives the override
    assert loaded.port == 9200
    assert loaded.host == "127.0.0.1"
    assert loaded.models[0].upstream_urls() == ["http://a:1/v1"]


def test_lists_from_the_environment(tmp_path: Path) -> None:
    environ = {"LLMOPS_MODELS": "[{name: m, upstreams: ['http://h:1/v1']}]"}
    loaded = settings.load(GatewaySettings, None, environ=environ)
    assert [m.name for m in loaded.models] == ["m"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("port: [1\n", "not valid YAML"),
        ("- a list\n", "mapping at the top level"),
        ("unknown_field: 1\n", "unknown_field: Extra inputs are not permitted"),
        ("models: [{name: m, upstreams: []}]\n", "models.0: .*either 'upstreams' or 'versions'"),
        (
            "models: [{name: m, upstreams: ['http://a/v1'], fallbacks: [n]}]\n",
            "fallbacks must name other configured models, not n",
        ),
        (
            "models: [{name: m, versions: [{version: a, weight: 0, upstreams: ['http://a/v1']}]}]\n",
            "weight above 0",
        ),
        ("models: [{name: m, upstreams: ['http://a/v1'], strategy: random}]\n", "strategy"),
        (
            "models: [{name: m, upstreams: ['http://a/v1']}, {name: m, upstreams: ['http://b/v1']}]\n",
            "repeated: m",
        ),
        ("admin_token: short\n", "admin_token"),
    ],
)
def test_errors_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        settings.load(GatewaySettings, write(tmp_path, text), environ={})


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        settings.load(GatewaySettings, tmp_path / "nope.yaml", environ={})
