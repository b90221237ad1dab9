"""``llmops serve``: its options, and the errors it gives before starting anything."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from llmops.cli.main import cli


def test_help_names_both_modes() -> None:
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--standalone" in result.output
    assert "--config" in result.output


def test_registry_sources_without_a_registry_are_refused_before_anything_starts(
    tmp_path: Path,
) -> None:
    config = tmp_path / "serve.yaml"
    config.write_text("source: 'models:/support-bot@champion'\n")
    result = CliRunner().invoke(
        cli,
        ["serve", "--standalone", "--config", str(config)],
        env={"LLMOPS_MLFLOW__TRACKING_URI": ""},
    )
    assert result.exit_code == 2
    assert "mlflow.tracking_uri" in result.output


def test_invalid_settings_say_where(tmp_path: Path) -> None:
    config = tmp_path / "serve.yaml"
    config.write_text("engine: tpu\n")
    result = CliRunner().invoke(cli, ["serve", "--config", str(config)])
    assert result.exit_code == 1
    assert "engine" in result.output
