"""The chart rendered once per values profile for the whole session (rendering takes Helm
about a third of a second; the tests look at the same objects many times)."""

from __future__ import annotations

import pytest

from tests.support import chart

# Values profile -> extra API versions of the cluster it is rendered for.
PROFILES: dict[str, tuple[str, ...]] = {
    "default": (),
    "production": (),
    "gpu": (),
    "kueue": (),
    "monitoring": chart.PROMETHEUS_OPERATOR,
}


def profile_values(name: str) -> dict[str, object]:
    return chart.profile("default" if name == "monitoring" else name)


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[chart.Manifest]]:
    return {
        name: chart.render(profile_values(name), api_versions=apis)
        for name, apis in PROFILES.items()
    }
