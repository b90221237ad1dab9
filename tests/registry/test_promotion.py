"""``llmops models promote|rollback|withdraw|list`` against a real MLflow server (SQLite backend)."""

from __future__ import annotations

import json
import threading
from typing import Any

from click.testing import CliRunner, Result

from llmops.cli.main import cli
from llmops.registry.store import ModelRegistry
from tests.registry.conftest import Register


def models(mlflow_url: str, *args: str) -> Result:
    return CliRunner().invoke(
        cli,
        ["models", *args, "--tracking-uri", mlflow_url, "--json"],
        env={"LLMOPS_ACTOR": "ci-bot"},
    )


def answer(result: Result) -> Any:
    return json.loads(result.stdout)


def test_a_gate_refuses_a_worse_version_and_accepts_a_better_one(
    mlflow_url: str, model_name: str, register: Register
) -> None:
    first = register(eval_loss=1.5, match=0.5)
    worse = register(eval_loss=1.9, match=0.5)
    better = register(eval_loss=1.1, match=0.75)
    gate = ["--gate", "eval_loss<=champion", "--gate", "match>=0.5"]

    done = models(mlflow_url, "promote", model_name, "--version", first, "--to", "champion", *gate)
    assert done.exit_code == 0, done.output
    assert answer(done)["promoted"] is True
    assert answer(done)["previous"] is None

    refused = models(
        mlflow_url, "promote", model_name, "--version", worse, "--to", "champion", *gate
    )
    assert refused.exit_code == 3, refused.output
    body = answer(refused)
    assert body["promoted"] is False
    assert body["gates"][0] == {
        "expression": "eval_loss<=champion",
        "passed": False,
        "value": 1.9,
        "threshold": 1.5,
    }
    registry = ModelRegistry(mlflow_url)
    assert registry.model(model_name).aliases["champion"] == first

    accepted = models(
        mlflow_url, "promote", model_name, "--version", better, "--to", "champion", *gate,
        "--reason", "lower loss on the support set",
    )  # fmt: skip
    assert accepted.exit_code == 0, accepted.output
    assert answer(accepted)["previous"] == first
    assert registry.model(model_name).aliases["champion"] == better
    tags = registry.version(model_name, better).tags
    assert tags["champion.promoted_by"] == "ci-bot"
    assert tags["champion.reason"] == "lower loss on the support set"
    assert tags["champion.promoted_at"].endswith("+00:00")
    assert json.loads(tags["champion.gates"])[0]["passed"] is True


def test_rollback_returns_the_champion_to_the_one_before(
    mlflow_url: str, model_name: str, register: Register
) -> None:
    versions = [register(eval_loss=2.0 - i / 10) for i in range(3)]
    for v in versions:
        assert (
            models(mlflow_url, "promote", model_name, "--version", v, "--to", "champion").exit_code
            == 0
        )

    back = models(mlflow_url, "rollback", model_name, "--reason", "error rate up")
    assert back.exit_code == 0, back.output
    assert (answer(back)["version"], answer(back)["previous"]) == (versions[1], versions[2])
    registry = ModelRegistry(mlflow_url)
    assert registry.model(model_name).aliases["champion"] == versions[1]
    assert (
        registry.version(model_name, versions[2]).tags["champion.rollback_reason"]
        == "error rate up"
    )

    again = models(mlflow_url, "rollback", model_name)
    assert answer(again)["version"] == versions[0]
    last = models(mlflow_url, "rollback", model_name)
    assert last.exit_code == 1
    assert "no earlier champion" in last.output
    assert registry.model(model_name).aliases["champion"] == versions[0]


def test_a_challenger_is_judged_against_the_champion(
    mlflow_url: str, model_name: str, register: Register
) -> None:
    champion = register(eval_loss=1.0)
    challenger = register(eval_loss=1.05)
    models(mlflow_url, "promote", model_name, "--version", champion, "--to", "champion")
    refused = models(
        mlflow_url, "promote", model_name, "--version", challenger, "--to", "challenger",
        "--gate", "eval_loss<=champion",
    )  # fmt: skip
    assert refused.exit_code == 3
    done = models(
        mlflow_url, "promote", model_name, "--version", challenger, "--to", "challenger",
        "--gate", "eval_loss<=1.1",
    )  # fmt: skip
    assert done.exit_code == 0
    listed = answer(models(mlflow_url, "list", model_name))
    assert listed["aliases"] == {"champion": champion, "challenger": challenger}
    assert [v["version"] for v in listed["versions"]] == [challenger, champion]
    # Its canary fails: the challenger alias is withdrawn, once.
    elsewhere = answer(
        models(mlflow_url, "withdraw", model_name, "--version", champion, "--reason", "x")
    )
    assert elsewhere["withdrawn"] is False
    withdrawn = models(
        mlflow_url, "withdraw", model_name, "--version", challenger, "--reason", "error rate"
    )
    assert withdrawn.exit_code == 0 and answer(withdrawn)["withdrawn"] is True
    listed = answer(models(mlflow_url, "list", model_name))
    assert listed["aliases"] == {"champion": champion}
    tags = next(v["tags"] for v in listed["versions"] if v["version"] == challenger)
    assert tags["challenger.withdrawn_by"] == "ci-bot"
    assert tags["challenger.withdraw_reason"] == "error rate"


def test_usage_errors_exit_2_and_unknown_versions_exit_1(
    mlflow_url: str, model_name: str, register: Register
) -> None:
    version = register(eval_loss=1.0)
    bad_gate = models(
        mlflow_url,
        "promote",
        model_name,
        "--version",
        version,
        "--to",
        "champion",
        "--gate",
        "loss<<1",
    )
    assert bad_gate.exit_code == 2
    assert "loss<<1" in bad_gate.output
    bad_alias = models(mlflow_url, "promote", model_name, "--version", version, "--to", "prod")
    assert bad_alias.exit_code == 2
    unknown = models(mlflow_url, "promote", model_name, "--version", "99", "--to", "champion")
    assert unknown.exit_code == 1
    no_uri = CliRunner().invoke(
        cli, ["models", "list", model_name], env={"MLFLOW_TRACKING_URI": ""}
    )
    assert no_uri.exit_code == 2
    assert "tracking URI" in no_uri.output


def test_there_is_never_a_moment_without_a_champion(
    mlflow_url: str, model_name: str, register: Register
) -> None:
    first, second = register(eval_loss=1.0), register(eval_loss=1.0)
    registry = ModelRegistry(mlflow_url)
    models(mlflow_url, "promote", model_name, "--version", first, "--to", "champion")
    seen: list[str | None] = []
    stop = threading.Event()

    def watch() -> None:
        reader = ModelRegistry(mlflow_url)
        while not stop.is_set():
            found = reader.by_alias(model_name, "champion")
            seen.append(found.version if found else None)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for i in range(6):
            target = second if i % 2 == 0 else first
            assert (
                models(
                    mlflow_url, "promote", model_name, "--version", target, "--to", "champion"
                ).exit_code
                == 0
            )
    finally:
        stop.set()
        watcher.join()
    assert registry.model(model_name).aliases["champion"] == first
    assert None not in seen
    assert {first, second} <= set(seen)


def test_pairwise_gates_hold_only_against_the_champion_they_were_measured_with(
    mlflow_url: str, model_name: str, register: Register
) -> None:
    registry = ModelRegistry(mlflow_url)
    gates = ["--gate", "eval.support.win_rate>=0.55", "--gate", "eval.support.p_value<=0.05"]
    # The first version has no champion to beat: pairwise figures it lacks do not block it.
    first = register(**{"eval.support.pii_free": 1.0})
    done = models(mlflow_url, "promote", model_name, "--version", first, "--to", "champion", *gates)
    assert done.exit_code == 0, done.output
    assert all(g["note"] == "no champion to compare with" for g in answer(done)["gates"])

    measured = {"eval.support.win_rate": 0.7, "eval.support.p_value": 0.01}
    stale = register(**measured)
    registry.tag_version(model_name, stale, {"eval.support.against": f"models:/{model_name}/0"})
    refused = models(
        mlflow_url, "promote", model_name, "--version", stale, "--to", "champion", *gates
    )
    assert refused.exit_code == 3, refused.output
    verdict = answer(refused)["gates"][0]
    assert verdict["passed"] is False and verdict["value"] == 0.7
    assert f"the champion is models:/{model_name}/{first}" in verdict["note"]

    fresh = register(**measured)
    registry.tag_version(
        model_name, fresh, {"eval.support.against": f"models:/{model_name}/{first}"}
    )
    accepted = models(
        mlflow_url, "promote", model_name, "--version", fresh, "--to", "champion", *gates
    )
    assert accepted.exit_code == 0, accepted.output
    assert [g["passed"] for g in answer(accepted)["gates"]] == [True, True]
