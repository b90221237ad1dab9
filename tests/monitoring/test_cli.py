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


def test_drift_exits_3_with_the_signals_and_the_window_exported(
    sqlite_url: str, tmp_path: Path
) -> None:
    write_log(sqlite_url, traffic(new_domain=True))
    export = tmp_path / "window.jsonl"
    code, out, _ = check(sqlite_url, "--json", "--export", str(export))
    assert code == 3, out
    assert out["drift_detected"] is True and out["data_drift"] is True
    assert out["enough_samples"] is True
    assert out["reference_rows"] == 120 and out["current_rows"] == out["samples"] == 120
    assert "prompt_length" in out["drifted_features"]  # type: ignore[operator]
    assert out["summary"][0].startswith("Data drift")  # type: ignore[index]
    lengths = next(f for f in out["features"] if f["feature"] == "prompt_length")  # type: ignore[attr-defined]
    assert lengths["kind"] == "data" and lengths["tested"] and lengths["current_rows"] == 120
    assert out["retrain_data"] == [str(export)]
    first = json.loads(export.read_text().splitlines()[0])
    assert [m["role"] for m in first["messages"]] == ["user", "assistant"]


def test_too_few_requests_exit_4_and_say_so(sqlite_url: str) -> None:
    write_log(sqlite_url, traffic(new_domain=True)[:150])
    code, out, _ = check(sqlite_url, "--json")
    assert code == 4
    assert out["enough_samples"] is False and out["drift_detected"] is False
    code, _, text = check(sqlite_url)
    assert code == 4 and "too few requests to decide" in text


def test_a_slower_system_alone_exits_0_with_operational_drift(sqlite_url: str) -> None:
    now = datetime.now(UTC)
    write_log(
        sqlite_url,
        records(120, seed=1, start=now - timedelta(minutes=50))
        + records(120, seed=2, slower=2.0, start=now - timedelta(minutes=5)),
    )
    code, out, _ = check(sqlite_url, "--json")
    assert code == 0, out
    assert out["drift_detected"] is False and out["operational_drift"] is True
    code, _, text = check(sqlite_url)
    assert "Operational drift" in text and "latency" in text


def test_absolute_windows(sqlite_url: str) -> None:
    """Windows given as times, far from now: last week's Monday against its Tuesday."""
    monday = datetime(2026, 11, 23, 9, tzinfo=UTC)
    tuesday = monday + timedelta(days=1)
    write_log(
        sqlite_url,
        records(120, seed=1, start=monday) + records(120, seed=2, start=tuesday, new_domain=True),
    )
    code, out, text = check(
        sqlite_url,
        "--json",
        "--reference",
        "2026-11-23T09:00..2026-11-23T10:00",
        "--current",
        "2026-11-24T09:00:00+00:00..2026-11-24T10:00:00+00:00",
    )
    assert code == 3, text
    assert out["reference_rows"] == out["current_rows"] == 120
    assert out["current_window"] == {
        "start": "2026-11-24T09:00:00+00:00",
        "end": "2026-11-24T10:00:00+00:00",
    }
    # The same window written in another time zone selects the same rows.
    code, out, _ = check(
        sqlite_url,
        "--json",
        "--reference",
        "2026-11-23T11:00+02:00..2026-11-23T12:00+02:00",
        "--current",
        "2026-11-24T04:00-05:00..2026-11-24T05:00-05:00",
    )
    assert out["reference_rows"] == out["current_rows"] == 120
    assert out["current_window"]["start"] == "2026-11-24T09:00:00+00:00"  # type: ignore[index]
    # Only the current window given: the reference is the reference_window before it.
    code, out, _ = check(sqlite_url, "--json", "--current", "2026-11-24T09:00..2026-11-24T10:00")
    assert out["reference_window"]["start"] == "2026-11-17T09:00:00+00:00"  # type: ignore[index]
    for bad, why in [
        ("2026-11-24", "expected START..END"),
        ("2026-11-24..yesterday", "ISO 8601"),
        ("2026-11-24..2026-11-23", "start must come before"),
    ]:
        code, _, text = check(sqlite_url, "--current", bad)
        assert code == 2 and why in text, text


def test_the_check_counts_feedback_since_a_time_when_asked(sqlite_url: str) -> None:
    write_log(sqlite_url, traffic(new_domain=False))
    code, out, _ = check(sqlite_url, "--json", "--feedback-since", "all")
    assert code == 0 and out["feedback"] == {"since": None, "new": 0}
    code, out, _ = check(sqlite_url, "--json", "--feedback-since", "2026-12-01T00:00:00Z")
    assert out["feedback"] == {"since": "2026-12-01T00:00:00+00:00", "new": 0}
    code, _, text = check(sqlite_url, "--feedback-since", "last week")
    assert code == 2 and "ISO 8601" in text
    _, out, _ = check(sqlite_url, "--json")
    assert "feedback" not in out


def test_progress_goes_to_stderr_only_on_a_terminal(sqlite_url: str) -> None:
    write_log(sqlite_url, traffic(new_domain=False))
    result = CliRunner().invoke(
        cli,
        [
            *("drift", "check", "--deployment", "smollm2", "--database-url", sqlite_url),
            *("--no-embeddings", "--no-report", "--json"),
        ],
        env={"LLMOPS_DRIFT__CURRENT_WINDOW": "10m", "LLMOPS_DRIFT__MIN_SAMPLES": "100"},
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert json.loads(result.stdout)["drift_detected"] is False


def test_bad_settings_and_a_missing_log_are_reported(tmp_path: Path) -> None:
    code, _, text = check(f"sqlite:///{tmp_path / 'none.db'}")
    assert code == 1 and "no request log" in text
    result = CliRunner().invoke(
        cli,
        ["drift", "check", "--deployment", "d"],
        env={"LLMOPS_DRIFT__CURRENT_WINDOW": "soon"},
    )
    assert result.exit_code == 2 and "not a duration" in result.output
