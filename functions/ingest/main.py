"""Cloud Function `ingest`: thin entry point; the routes live in `shared/endpoints/ingest.py`."""

import functions_framework
from flask import Request, Response

from shared.endpoints.ingest import api


@functions_framework.http
def ingest(request: Request) -> Response:
    return api(request)
