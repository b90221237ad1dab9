"""The gateway against its own OpenAPI document: schemathesis generates requests for every
operation it describes (``/v1`` with a team's key, ``/admin`` with the admin token, and
each without them), valid and invalid, and the gateway must answer none with a 5xx, nor
with a status or a body its document does not describe.

The run is deterministic (derandomized, no example database) and bounded to seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis

from llmops.serving.echo import EchoBehaviour, EchoRecord, EchoServer
from tests.support.gateways import ADMIN_TOKEN, gateway_in_thread, settings_for
from tests.support.http import new_key

# Generated cases per operation in the fuzzing phase; the coverage phase adds its own
# (each bound of each field, each field missing or of another type).
MAX_EXAMPLES = 25


def fuzz_config(api_key: str) -> schemathesis.Config:
    """What schemathesis generates and checks (a ``schemathesis.toml``, as a dict)."""
    return schemathesis.Config.from_dict(
        {
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
            # The document links no operations to others: there is nothing to chain.
            "phases": {"stateful": {"enabled": False}},
            "auth": {
                "openapi": {"ApiKey": {"bearer": api_key}, "AdminToken": {"bearer": ADMIN_TOKEN}}
            },
            # Most bodies name a model the gateway serves, so that they reach the replica.
            "dictionaries": {"models": {"values": ["echo"]}},
            "parameters": {"body.model": {"dictionary": "models", "probability": 0.8}},
            # Invalid requests are sent, and must not fail the gateway, but some are let
            # through: the gateway checks only what it relies on in an OpenAI body and
            # passes the rest on (gateway.openai_schema) to a replica, here one that
            # refuses nothing; the admin API's models read 0 as false and "5" as 5.
            "checks": {"negative_data_rejection": {"enabled": False}},
            "operations": [
                {
                    # The gateway refuses an integral number written as 8.0 where the
                    # document says integer, which JSON Schema counts as an integer.
                    "include-path-regex": "^/v1/",
                    "checks": {"positive_data_acceptance": {"enabled": False}},
                },
                {
                    # A method /admin does not serve on a path is answered 405 with the
                    # methods of one of the path's routes in Allow, not all of them.
                    "include-path-regex": "^/admin/",
                    "checks": {"allow_header_conformance": {"enabled": False}},
                },
                {
                    # What a schema cannot say: an expiry must be in the future, a
                    # report's since before its until. Such bodies get a 400 naming it.
                    "include-path-regex": r"^/admin/(keys|keys/\{key_id\}/rotate|spend)$",
                    "checks": {
                        "allow_header_conformance": {"enabled": False},
                        "positive_data_acceptance": {
                            "expected-statuses": ["2xx", "400", "401", "403", "404", "409"]
                        },
                    },
                },
            ],
        }
    )


@pytest.fixture
def gateway_schema(echo_server: EchoServer, sqlite_url: str) -> Iterator[schemathesis.BaseSchema]:
    """The document a running gateway serves, bound to that gateway and a team's key."""
    echo_server.behaviour = EchoBehaviour()
    echo_server.record = EchoRecord()
    # The coverage phase's bodies name "0", the shortest name the document allows.
    settings = settings_for(sqlite_url, {"echo": [echo_server.url], "0": [echo_server.url]})
    with gateway_in_thread(settings) as gateway:
        key = new_key(gateway.url, "fuzz")
        yield schemathesis.openapi.from_url(
            f"{gateway.url}/openapi.json", config=fuzz_config(key), timeout=10
        )


@pytest.fixture(autouse=True)
def node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """schemathesis 4 names each operation's subtest through ``Node._nodeid`` when its
    schema comes from a fixture; pytest 9.2 no longer has that attribute."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


schema = schemathesis.pytest.from_fixture("gateway_schema")


@schema.parametrize()
def test_every_operation_answers_as_its_document_says(case: schemathesis.Case[Any]) -> None:
    case.call_and_validate(timeout=10)
