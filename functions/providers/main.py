"""Cloud Function `providers`: thin entry point; the routes live in `shared/endpoints/providers.py`."""

import functions_framework
from flask import Request, Response

from shared.endpoints.providers import api


@functions_framework.http
def providers(request: Request) -> Response:
    return api(request)
