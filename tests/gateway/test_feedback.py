"""Feedback on answers: every answer is named by a request id bound to its team, a team
gives feedback on its own answers only, what it says is stored redacted and erased with
the person it is about."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openai
import orjson
import pytest
from click.testing import CliRunner

from llmops.cli.main import cli
from llmops.serving.echo import EchoServer
from llmops.training import preferences
from tests.requestlog.test_gateway_log import ask, counter, wait_rows
from tests.requestlog.test_privacy import admin
from tests.support.gateways import RunningGateway, gateway_in_thread, settings_for
from tests.support.http import call, new_key


@pytest.fixture
def gateway(echo: EchoServer, sqlite_url: str) -> Any:
    settings = settings_for(
        sqlite_url,
        {"echo": [echo.url]},
        request_log={"flush_seconds": 0.05},
        cache={"enabled": True, "semantic": False},
    )
    with gateway_in_thread(settings) as running:
        yield running


def give(gateway: RunningGateway, key: str, body: dict[str, Any]) -> tuple[int, Any]:
    reply = call(
        "POST", f"{gateway.v1}/feedback", body=body, headers={"authorization": f"Bearer {key}"}
    )
    return reply.status, reply.json()


def test_answers_carry_their_request_id_in_the_header_and_the_body(
    gateway: RunningGateway,
) -> None:
    with openai.OpenAI(
        base_url=gateway.v1, api_key=new_key(gateway.url, "t1"), max_retries=0
    ) as client:
        _ids_of_answers(client)


def _ids_of_answers(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model="echo", messages=[{"role": "user", "content": "first"}], temperature=0
    )
    request_id = raw.headers["x-llmops-request-id"]
    assert request_id.startswith("req-") and raw.parse().id == request_id
    chunks = list(
        client.chat.completions.create(
            model="echo", messages=[{"role": "user", "content": "a stream"}], stream=True
        )
    )
    assert len({c.id for c in chunks}) == 1 and chunks[0].id.startswith("req-")
    assert chunks[0].id != request_id
    # A cache hit is a new request with an id of its own.
    again = client.chat.completions.with_raw_response.create(
        model="echo", messages=[{"role": "user", "content": "first"}], temperature=0
    )
    assert again.headers["x-llmops-cache"] == "hit"
    assert again.parse().id == again.headers["x-llmops-request-id"] != request_id


def test_a_team_gives_feedback_on_its_own_answers_only(
    gateway: RunningGateway, sqlite_url: str, tmp_path: Path
) -> None:
    mine, theirs = new_key(gateway.url, "team-a"), new_key(gateway.url, "team-b")
    reply = call(
        "POST",
        f"{gateway.v1}/chat/completions",
        body=ask("hello", user="alice"),
        headers={"authorization": f"Bearer {mine}"},
    )
    request_id = reply.headers["x-llmops-request-id"]
    assert wait_rows(sqlite_url, 1)[0].request_id == request_id

    status, stored = give(
        gateway,
        mine,
        {
            "request_id": request_id,
            "score": "down",
            "comment": "Wrong. Write to me at alice@example.com",
            "correction": "Hello Alice!",
        },
    )
    assert status == 201, stored
    # The address in the comment and the name in the correction are not stored.
    assert (stored["model"], stored["score"], stored["redactions"]) == ("echo", "down", 2)

    status, refused = give(gateway, theirs, {"request_id": request_id, "score": 5})
    assert status == 404 and refused["error"]["code"] == "request_not_found"
    forged = request_id[:-1] + ("0" if request_id[-1] != "0" else "1")
    assert give(gateway, mine, {"request_id": forged, "score": 5})[0] == 404
    status, bad = give(gateway, mine, {"request_id": request_id, "score": 7})
    assert status == 400 and bad["error"]["param"] == "score"
    status, bad = give(gateway, mine, {"request_id": request_id, "score": 4, "mood": "x"})
    assert status == 400 and bad["error"]["param"] == "mood"
    assert give(gateway, "sk-wrong", {"request_id": request_id, "score": 4})[0] == 401

    counted = counter(gateway.url, "llmops_feedback_total")
    version = stored["model_version"] or "unknown"
    label = f'llmops_feedback_total{{model="echo",score="down",version="{version}"}}'
    assert counted == {label: 1.0}, counted

    # The correction becomes a preference pair for the dpo recipe (texts as stored: redacted).
    pairs_file = tmp_path / "pairs.jsonl"
    written = CliRunner().invoke(
        cli,
        ["feedback", "pairs", "--database-url", sqlite_url, "--out", str(pairs_file), "--json"],
    )
    assert written.exit_code == 0, written.output
    assert orjson.loads(written.stdout)["from_corrections"] == 1
    (line,) = [orjson.loads(x) for x in pairs_file.read_text().splitlines()]
    assert line["prompt"] == "hello" and line["chosen"] == "Hello <PERSON>!"
    assert line["rejected"] == wait_rows(sqlite_url, 1)[0].completion_text
    assert "user:" in " ".join(line["subjects"])
    assert len(preferences.load([pairs_file])) == 1
    too_few = CliRunner().invoke(
        cli,
        [
            *("feedback", "pairs", "--database-url", sqlite_url, "--out", str(pairs_file)),
            *("--min-pairs", "2", "--since", "2026-01-01T00:00:00Z"),
        ],
    )
    assert too_few.exit_code == 4 and "fewer than the 2 needed" in too_few.output
    # What a DriftMonitor's check counts for its feedback loop.
    counted_by_check = CliRunner().invoke(
        cli,
        [
            *("drift", "check", "--deployment", "echo", "--database-url", sqlite_url),
            *("--feedback-since", "all", "--no-embeddings", "--no-report", "--json"),
        ],
    )
    assert counted_by_check.exit_code == 4  # one request: too few to judge drift
    assert orjson.loads(counted_by_check.stdout)["feedback"] == {"since": None, "new": 1}

    # What the user said goes with the person it is about: exported with the answer ...
    status, exported = admin(gateway, "privacy/export", {"user": "alice"})
    assert status == 200, exported
    (row,) = exported["data"]
    assert [(f["score"], f["correction"]) for f in row["feedback"]] == [("down", "Hello <PERSON>!")]
    # ... and erased with it.
    status, erased = admin(gateway, "privacy/forget", {"user": "alice"})
    assert status == 200, erased
    assert (erased["request_log_rows"], erased["feedback_rows"]) == (1, 1)
