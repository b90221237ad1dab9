"""Spend as a team sees it: each answer's cost, the spend table, budgets that refuse
before overspending, and keys that expire or rotate with a grace period."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import openai
import pytest

from llmops.serving.echo import EchoServer, prompt_tokens
from tests.support.gateways import RunningGateway, gateway_in_thread, settings_for
from tests.support.http import Reply, admin, chat, metric_values, new_key
from tests.support.services import free_port

INPUT, OUTPUT = Decimal(2), Decimal(8)  # per million tokens
HELLO = {"model": "echo", "messages": [{"role": "user", "content": "one two three"}]}


def cost_of(prompt: int, completion: int) -> Decimal:
    return (prompt * INPUT + completion * OUTPUT) / 1_000_000


@pytest.fixture
def priced(echo: EchoServer, sqlite_url: str) -> Iterator[RunningGateway]:
    settings = settings_for(
        sqlite_url,
        {"echo": [echo.url], "free": [echo.url], "dead": [f"http://127.0.0.1:{free_port()}/v1"]},
        key_cache_seconds=0.2,
        budgets={"timezone": "Europe/Paris", "flush_seconds": 0.1},
    )
    models = [
        {**m.model_dump(mode="json"), "price": {"input": "2", "output": "8"}}
        if m.name in {"echo", "dead"}
        else m.model_dump(mode="json")
        for m in settings.models
    ]
    settings = settings.model_copy(
        update={"models": type(settings).model_validate({"models": models}).models}
    )
    with gateway_in_thread(settings) as running:
        yield running


def spent(gateway: RunningGateway, team: str, **query: str) -> dict[str, Any]:
    params = "&".join(f"{k}={v}" for k, v in {"team": team, **query}.items())
    reply = admin("GET", gateway.url, f"/spend?{params}")
    assert reply.status == 200, reply.body
    body: dict[str, Any] = reply.json()
    return body


def spent_once_flushed(
    gateway: RunningGateway, team: str, requests: int, **query: str
) -> dict[str, Any]:
    """The report once the gateway wrote ``requests`` requests to the spend table."""
    deadline = time.monotonic() + 10
    while (report := spent(gateway, team, **query))["total"]["requests"] < requests:
        assert time.monotonic() < deadline, report
        time.sleep(0.05)
    return report


def test_each_answer_says_what_it_cost_and_the_team_sees_it(
    priced: RunningGateway, echo: EchoServer
) -> None:
    key = new_key(priced.url, "spenders")
    reply = chat(priced.url, key, {**HELLO, "max_tokens": 2})
    assert reply.status == 200
    usage = reply.json()["usage"]
    expected = cost_of(usage["prompt_tokens"], usage["completion_tokens"])
    assert Decimal(reply.headers["x-llmops-cost"]) == expected
    free = chat(priced.url, key, {**HELLO, "model": "free"})
    assert free.status == 200 and free.headers["x-llmops-cost"] == "0"

    report = spent_once_flushed(priced, "spenders", 2)
    lines = {line["model"]: line for line in report["data"]}
    assert Decimal(lines["echo"]["cost"]) == expected and lines["free"]["cost"] == "0"
    assert lines["echo"]["prompt_tokens"] == usage["prompt_tokens"]
    assert report["currency"] == "USD" and Decimal(report["total"]["cost"]) == expected
    spend = metric_values(priced.url, "llmops_gateway_spend_total")
    assert spend == {'llmops_gateway_spend_total{model="echo",team="spenders"}': float(expected)}
    unpriced = metric_values(priced.url, "llmops_gateway_unpriced_requests_total")
    assert unpriced == {'llmops_gateway_unpriced_requests_total{model="free"}': 1.0}
    by_key = spent(priced, "spenders", by="key")["data"]
    assert [line["requests"] for line in by_key] == [2]
    day = spent(priced, "spenders", by="day")["data"]
    assert len(day) == 1 and dt.date.fromisoformat(day[0]["day"])


def _cut(echo: EchoServer) -> None:
    echo.behaviour.cut_after_tokens = 1


def _fail(status: int) -> Any:
    def setup(echo: EchoServer) -> None:
        echo.behaviour.status = status

    return setup


STREAM = {**HELLO, "stream": True, "stream_options": {"include_usage": True}}
PROMPT = prompt_tokens(HELLO)


@pytest.mark.parametrize(
    ("setup", "body", "prompt", "completion"),
    [
        (None, HELLO, "reported", 3),
        (None, STREAM, "reported", 3),
        (_cut, STREAM, "estimated", 1),  # cut after one chunk: about a token a chunk
        (_fail(500), HELLO, "estimated", 0),  # sent, then failed: the replica read the prompt
        (_fail(400), HELLO, None, 0),  # refused by the replica: nothing
        (None, {**HELLO, "model": "dead"}, None, 0),  # never reached a replica: nothing
    ],
    ids=["json", "stream", "stream-cut", "replica-500", "replica-400", "unreachable"],
)
def test_every_ending_settles_the_spend(  # noqa: PLR0917 (the parameters of the cases)
    priced: RunningGateway,
    echo: EchoServer,
    setup: Any,
    body: dict[str, Any],
    prompt: str | None,
    completion: int,
) -> None:
    """The cost follows the rule the token settlement follows, for every ending."""
    key = new_key(priced.url, "endings")
    if setup is not None:
        setup(echo)
    chat(priced.url, key, body)
    total = spent_once_flushed(priced, "endings", 1)["total"]
    assert total["completion_tokens"] == completion
    if prompt == "reported":
        assert total["prompt_tokens"] == PROMPT
    elif prompt == "estimated":  # the gateway's own count of the prompt
        assert total["prompt_tokens"] > 0
    else:
        assert total["prompt_tokens"] == 0
    assert Decimal(total["cost"]) == cost_of(total["prompt_tokens"], completion)


def _budget_reply(gateway: RunningGateway, key: str, max_tokens: int) -> Reply:
    return chat(gateway.url, key, {**HELLO, "max_tokens": max_tokens})


def test_a_team_budget_refuses_before_it_is_overspent(priced: RunningGateway) -> None:
    # 50 requests of 3 completion tokens fit; each reserves 10 completion tokens.
    per_request = cost_of(PROMPT, 3)
    budget = per_request * 50
    team = admin(
        "PUT", priced.url, "/teams/budgeted/budget", {"amount": str(budget), "period": "day"}
    )
    assert team.status == 200 and team.json()["budget"] == {
        "amount": str(budget.normalize()),
        "period": "day",
    }
    key = new_key(priced.url, "budgeted")
    admitted: list[Reply] = []
    while (reply := _budget_reply(priced, key, 10)).status == 200:
        admitted.append(reply)
        assert len(admitted) <= 50
    assert reply.status == 429
    error = reply.json()["error"]
    assert error["code"] == "budget_exceeded" and "team_budget" in error["message"]
    assert reply.headers["x-should-retry"] == "false"  # renews at midnight in Paris
    assert int(reply.headers["retry-after"]) > 60
    assert reply.headers["x-ratelimit-reset-budget"].endswith("s")
    assert Decimal(reply.headers["x-ratelimit-limit-budget"]) == budget
    spent_so_far = sum(Decimal(r.headers["x-llmops-cost"]) for r in admitted)
    remaining = Decimal(reply.headers["x-ratelimit-remaining-budget"])
    assert spent_so_far + remaining == budget
    # What is left is less than one reservation: the budget is spent within one request.
    assert remaining < cost_of(PROMPT * 4, 10)
    used = metric_values(priced.url, "llmops_gateway_budget_used_ratio")
    ratio = used['llmops_gateway_budget_used_ratio{budget="team",team="budgeted"}']
    assert ratio == pytest.approx(float(spent_so_far / budget))
    reached = metric_values(priced.url, "llmops_gateway_budget_soft_threshold_reached")
    assert (
        reached['llmops_gateway_budget_soft_threshold_reached{budget="team",team="budgeted"}'] == 1
    )
    refused = metric_values(priced.url, "llmops_gateway_ratelimited_total")
    assert refused['llmops_gateway_ratelimited_total{limit="team_budget",team="budgeted"}'] >= 1


def test_a_request_that_could_cost_more_than_the_whole_budget_is_refused_for_good(
    priced: RunningGateway, echo: EchoServer
) -> None:
    key = new_key(priced.url, "tiny", budget={"amount": "0.0001", "period": "month"})
    reply = _budget_reply(priced, key, 100_000)
    assert reply.status == 429 and reply.json()["error"]["code"] == "budget_exceeded"
    assert "lower max_tokens" in reply.json()["error"]["message"]
    assert reply.headers["x-should-retry"] == "false" and "retry-after" not in reply.headers
    assert not echo.record.requests
    assert _budget_reply(priced, key, 5).status == 200


def test_a_key_budget_holds_over_its_rotations(priced: RunningGateway) -> None:
    # Five answers' worth; each reserves more than one answer costs, so the fifth, which
    # a fresh count would admit, finds too little left.
    created = admin(
        "POST",
        priced.url,
        "/keys",
        {"team": "rot", "budget": {"amount": str(cost_of(PROMPT, 3) * 5), "period": "day"}},
    ).json()
    assert _budget_reply(priced, created["key"], 3).status == 200
    assert _budget_reply(priced, created["key"], 3).status == 200
    rotated = admin("POST", priced.url, f"/keys/{created['id']}/rotate").json()
    assert rotated["budget"] == created["budget"]
    assert _budget_reply(priced, rotated["key"], 3).status == 200
    assert _budget_reply(priced, rotated["key"], 3).status == 200
    refused = _budget_reply(priced, rotated["key"], 3)
    assert refused.status == 429 and "key_budget" in refused.json()["error"]["message"]
    cleared = admin("DELETE", priced.url, f"/keys/{rotated['id']}/budget")
    assert cleared.status == 200 and cleared.json()["budget"] is None
    deadline = time.monotonic() + 10
    while _budget_reply(priced, rotated["key"], 3).status != 200:  # within the key cache's time
        assert time.monotonic() < deadline
        time.sleep(0.05)


def _until_refused(gateway: RunningGateway, key: str, deadline: float = 15.0) -> Reply:
    started = time.monotonic()
    while (reply := chat(gateway.url, key, HELLO)).status == 200:
        assert time.monotonic() - started < deadline, "the key still works"
        time.sleep(0.05)
    return reply


def test_a_key_stops_at_its_expiry(priced: RunningGateway) -> None:
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1.5)).isoformat()
    created = admin("POST", priced.url, "/keys", {"team": "temp", "expires_at": soon})
    assert created.status == 201 and created.json()["expires_at"] is not None
    key = created.json()["key"]
    assert chat(priced.url, key, HELLO).status == 200
    refused = _until_refused(priced, key)
    assert refused.status == 401 and refused.json()["error"]["code"] == "expired_api_key"
    past = admin(
        "POST", priced.url, "/keys", {"team": "temp", "expires_at": "2001-01-01T00:00:00Z"}
    )
    assert past.status == 400 and past.json()["error"]["param"] == "expires_at"
    naive = admin(
        "POST", priced.url, "/keys", {"team": "temp", "expires_at": "2099-01-01T00:00:00"}
    )
    assert naive.status == 400


def test_a_rotated_key_works_through_its_grace_period_then_stops(priced: RunningGateway) -> None:
    created = admin("POST", priced.url, "/keys", {"team": "grace"}).json()
    rotated = admin("POST", priced.url, f"/keys/{created['id']}/rotate", {"grace_seconds": 1.5})
    assert rotated.status == 201
    new = rotated.json()
    assert chat(priced.url, created["key"], HELLO).status == 200  # the old key, in its grace
    assert chat(priced.url, new["key"], HELLO).status == 200
    again = admin("POST", priced.url, f"/keys/{created['id']}/rotate", {"grace_seconds": 60})
    assert again.status == 400  # rotated once already: one new key per rotation
    old = admin("GET", priced.url, f"/keys/{created['id']}").json()
    assert old["rotated_at"] is not None and old["revoked_at"] is None
    refused = _until_refused(priced, created["key"])
    assert refused.status == 401 and refused.json()["error"]["code"] == "expired_api_key"
    assert chat(priced.url, new["key"], HELLO).status == 200
    bad = admin("POST", priced.url, f"/keys/{new['id']}/rotate", {"grace_seconds": -1})
    assert bad.status == 400
    actions = [e["action"] for e in admin("GET", priced.url, "/audit").json()["data"]]
    assert actions.count("key.rotated") == 1


def test_an_expiry_in_any_time_zone_is_kept_as_that_moment(priced: RunningGateway) -> None:
    zone = dt.timezone(dt.timedelta(hours=-5))
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)).astimezone(zone)
    created = admin("POST", priced.url, "/keys", {"team": "zones", "expires_at": later.isoformat()})
    assert created.status == 201
    stored = dt.datetime.fromisoformat(created.json()["expires_at"])
    assert abs((stored - later).total_seconds()) < 1
    assert chat(priced.url, created.json()["key"], HELLO).status == 200
    listed = admin("GET", priced.url, f"/keys/{created.json()['id']}").json()
    assert abs((dt.datetime.fromisoformat(listed["expires_at"]) - later).total_seconds()) < 1
    for far in ("9999-12-31T23:59:59-23:59", "2300-01-01T00:00:00Z"):
        refused = admin("POST", priced.url, "/keys", {"team": "zones", "expires_at": far})
        assert refused.status == 400, refused.body
    report = admin("GET", priced.url, "/spend?team=zones&until=9999-12-31T23:59:59Z")
    assert report.status == 400 and report.json()["error"]["param"] == "until"


def test_a_budgeted_request_is_sent_with_the_allowance_it_reserved(
    priced: RunningGateway, echo: EchoServer
) -> None:
    key = new_key(priced.url, "capped", budget={"amount": "1", "period": "day"})
    assert chat(priced.url, key, HELLO).status == 200
    assert echo.record.requests[-1]["max_tokens"] == 512  # limits.default_max_tokens
    assert chat(priced.url, key, {**HELLO, "max_tokens": 7}).status == 200
    assert echo.record.requests[-1]["max_tokens"] == 7
    free = new_key(priced.url, "uncapped")
    assert chat(priced.url, free, HELLO).status == 200
    assert "max_tokens" not in echo.record.requests[-1]


def test_a_budget_held_by_requests_in_flight_asks_to_retry_soon(
    priced: RunningGateway, echo: EchoServer
) -> None:
    # Room for one reservation of 100 completion tokens, not two; each costs far less.
    amount = cost_of(PROMPT * 4, 100) * Decimal("1.5")
    key = new_key(priced.url, "inflight", budget={"amount": str(amount), "period": "day"})
    echo.behaviour.delay_seconds = 2.0
    slow = threading.Thread(target=_budget_reply, args=(priced, key, 100))
    slow.start()
    deadline = time.monotonic() + 10
    while not echo.record.requests:  # the first request is at the replica, in flight
        assert time.monotonic() < deadline
        time.sleep(0.01)
    refused = _budget_reply(priced, key, 100)
    slow.join()
    assert refused.status == 429, refused.body
    assert "in flight" in refused.json()["error"]["message"]
    assert refused.headers["retry-after"] == "1" and "x-should-retry" not in refused.headers
    echo.behaviour.delay_seconds = 0.0
    assert _budget_reply(priced, key, 100).status == 200  # settled: room again


def test_a_stream_says_what_it_cost_in_its_usage_chunk(priced: RunningGateway) -> None:
    sdk = openai.OpenAI(base_url=priced.v1, api_key=new_key(priced.url, "streams"), max_retries=0)
    chunks = list(
        sdk.chat.completions.create(
            model="echo",
            messages=[{"role": "user", "content": "one two three"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    usage = chunks[-1].usage
    assert usage is not None and usage.model_extra is not None
    expected = cost_of(usage.prompt_tokens, usage.completion_tokens)
    assert Decimal(usage.model_extra["cost"]) == expected
    report = spent_once_flushed(priced, "streams", 1)
    assert Decimal(report["total"]["cost"]) == expected
