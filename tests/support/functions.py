"""Load each HTTP function the way Cloud Functions does, by its own path.

functions-framework registers every target module as ``main``; loading by path each time gives every
function its own module object, so ingest and providers can live side by side in one test process.
"""

from __future__ import annotations

from pathlib import Path

import functions_framework
from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parents[2]


def function_client(name: str) -> FlaskClient:
    app = functions_framework.create_app(target=name, source=str(ROOT / "functions" / name / "main.py"))
    app.testing = True
    return app.test_client()
