"""Fixtures of the HTTP suites: both functions, contract-checked, over one fresh embedded store."""

from __future__ import annotations

import pytest

from shared.store import store_for
from tests.http.support import Checked, World, bearer


@pytest.fixture
def world(env, providers_client, ingest_client, admin) -> World:
    return World(
        ingest=Checked(ingest_client),
        providers=Checked(providers_client),
        admin=admin,
        store=store_for(env["ANALYTICS_STORE"]),
    )


@pytest.fixture
def acme(world, provider_key) -> dict[str, str]:
    """``Authorization`` for provider ``acme`` (registered by ``provider_key``, analytics on)."""
    world.keys["acme"] = provider_key
    return bearer(provider_key)
