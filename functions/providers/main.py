"""Cloud Function `providers`: thin entry point; the routes live in `shared/endpoints/providers.py`."""

import functions_framework
from flask import Request, Response
from werkzeug.exceptions import HTTPException

from shared.endpoints.providers import api
from shared.http.api import framework_error

# The framework answers a few paths itself (/robots.txt, /favicon.ico): keep those JSON too.
functions_framework.errorhandler(HTTPException)(framework_error)


@functions_framework.http
def providers(request: Request) -> Response:
    return api(request)
