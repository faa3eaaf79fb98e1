"""Fixtures every suite can use: an isolated embedded store and the HTTP functions over it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from shared.config import reset_settings
from shared.store import forget_stores
from tests.support.functions import function_client

# The session-wide Firestore emulator fixture (``firestore_emulator``), for every suite that needs it.
pytest_plugins = ["tests.support.firestore_emulator"]

ADMIN_TOKEN = "test-admin-token"


@pytest.fixture
def env(tmp_path, monkeypatch) -> Iterator[dict[str, str]]:
    """A fresh SQLite store and warehouse per test, configured the way the functions read it."""
    values = {
        "ANALYTICS_STORE": f"sqlite:///{tmp_path / 'store.sqlite3'}",
        "ANALYTICS_WAREHOUSE": f"duckdb:///{tmp_path / 'warehouse.duckdb'}",
        "ANALYTICS_ADMIN_TOKEN": ADMIN_TOKEN,
        "ANALYTICS_KEY_PEPPER": "test-pepper",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    reset_settings()
    forget_stores()
    yield values
    forget_stores()
    reset_settings()


@pytest.fixture
def providers_client(env) -> FlaskClient:
    return function_client("providers")


@pytest.fixture
def ingest_client(env) -> FlaskClient:
    return function_client("ingest")


@pytest.fixture
def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def provider_key(providers_client, admin) -> str:
    """A registered provider ``acme`` with analytics switched on; its API key."""
    created = providers_client.post(
        "/v1/providers", json={"providerId": "acme", "name": "Acme"}, headers=admin
    )
    assert created.status_code == 201, created.json
    patched = providers_client.patch("/v1/providers/acme", json={"enableAnalytics": True}, headers=admin)
    assert patched.status_code == 200, patched.json
    return created.json["apiKey"]
