"""``llmops drift check`` on a request log written as the gateway writes it."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from gateway import db
from llmops.cli.main import cli
from llmops.requestlog.table import RequestRecord, request_log
from tests.support.traffic import records


def write_log(database_url: str, rows: list[RequestRecord]) -> None:
    db.migrate(database_url)

    async def insert() -> None:
        engine = db.create_engine(database_url)
        async with engine.begin() as conn:
            await conn.execute(request_log.insert(), [r.row() for r in rows])
        await engine.dispose()

    asyncio.run(insert())


def traffic(new_domain: bool) -> list[RequestRecord]:
    now = datetime.now(UTC)
    reference = records(120, new_domain=False, seed=1, start=now - timedelta(minutes=50))
    current = records(120, new_domain=new_domain, seed=2, start=now - timedelta(minutes=5))
    return reference + current


def check(database_url: str, *extra: str) -> tuple[int, dict[str, object], str]:
    result = CliRunner().invoke(
        cli,
        [
            "drift",
            "check",
            "--deployment",
            "smollm2",
            "--database-url",
            database_url,
            "--no-embeddings",
            "--no-report",
            *extra,
        ],
        env={"LLMOPS_DRIFT__CURRENT_WINDOW": "10m", "LLMOPS_DRIFT__MIN_SAMPLES": "100"},
    )
    out = json.loads(result.stdout) if "--json" in extra and result.stdout.strip() else {}
    return result.exit_code, out, result.output


def test_drift_exits_3_with_the_features_and_the_window_exported(
    sqlite_url: str, tmp_path: Path
) -> None:
    write_log(sqlite_url, traffic(new_domain=True))
    export = tmp_path / "window.jsonl"
    code, out, _ = check(sqlite_url, "--json", "--export", str(export))
    assert code == 3, out
    assert out["drift_detected"] is True and out["enough_samples"] is True
    assert out["reference_rows"] == 120 and out["current_rows"] == out["samples"] == 120
    assert "prompt_length" in out["drifted_features"]  # type: ignore[operator]
    assert out["retrain_data"] == [str(export)]
    first = json.loads(export.read_text().splitlines()[0])
    assert [m["role"] for m in first["messages"]] == ["user", "assistant"]


def test_too_few_requests_exit_0_and_say_so(sqlite_url: str) -> None:
    write_log(sqlite_url, traffic(new_domain=True)[:150])
    code, out, _ = check(sqlite_url, "--json")
    assert code == 0
    assert out["enough_samples"] is False and out["drift_detected"] is False
    code, _, text = check(sqlite_url)
    assert code == 0 and "too few requests to decide" in text


def test_bad_settings_and_a_missing_log_are_reported(tmp_path: Path) -> None:
    code, _, text = check(f"sqlite:///{tmp_path / 'none.db'}")
    assert code == 1 and "no request log" in text
    result = CliRunner().invoke(
        cli,
        ["drift", "check", "--deployment", "d"],
        env={"LLMOPS_DRIFT__CURRENT_WINDOW": "soon"},
    )
    assert result.exit_code == 2 and "not a duration" in result.output
