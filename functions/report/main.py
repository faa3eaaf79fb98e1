"""Cloud Function `report`: thin entry point; the route lives in `shared/endpoints/report.py`."""

import functions_framework
from flask import Request, Response
from werkzeug.exceptions import HTTPException

from shared.endpoints.report import api
from shared.http.api import framework_error

# The framework answers a few paths itself (/robots.txt, /favicon.ico): keep those JSON too.
functions_framework.errorhandler(HTTPException)(framework_error)


@functions_framework.http
def report(request: Request) -> Response:
    return api(request)
