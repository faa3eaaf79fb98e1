"""Schemathesis against the committed OpenAPI 3.1 documents of both HTTP functions.

The documents under ``docs/openapi/`` are what integrators read, so they are what we fuzz: each
function is loaded the way Cloud Functions loads it (``functions_framework.create_app``) and driven
through its WSGI app. Cases mix schema-valid (positive) and schema-violating (negative) requests,
with valid credentials (a fresh provider with analytics on per ingest case; the operator token) and
without, and with a provider key on the operator function.

Every response is held to:
- no 5xx, ever, for anything a client sent;
- the v1 error contract on every non-2xx (JSON ``{"error": {"code", "message", "details": []}}``,
  specific snake_case code) and the security headers (``harness.contract_problems``);
- schemathesis' conformance checks: documented status code, content type and response schema, and
  that a schema-violating request is refused (except the per-item routes ``/v1/events`` and
  ``/v1/activities``, which answer 200 and reject the bad items one by one);
- on ``/v1/events`` and ``/v1/activities``: every item rejected in a 200 is in the failed-events store
  with its reason and raw payload (``harness.check_batch``);
- without credentials every route answers 401 ``missing_credentials``; a provider key on an
  operator route answers 403 ``admin_only`` (the operations documented ``security: []`` - the
  OpenAPI document and the health check - are public).

Case counts: see ``harness`` (``CA_FUZZ_EXAMPLES``) and the ``fuzz:`` lines of the terminal summary.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import functions_framework
import pytest
import schemathesis
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fuzz.harness import (
    Campaign,
    World,
    check_batch,
    contract_problems,
    error_code,
    fuzz_settings,
    strict_json,
    timeout_for,
)
from tests.support.functions import ROOT

pytestmark = pytest.mark.slow

SPECS = ROOT / "docs" / "openapi"
CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# These answer 200 with per-item results: a schema-violating item is rejected (and kept), not the request.
PER_ITEM = {("POST", "/v1/events"): "event", ("POST", "/v1/activities"): "activity"}
# A generated path parameter that cannot match the route (a newline, say) is an unknown route: 404
# before authentication, which reveals nothing the published document does not.
NO_CREDENTIALS = {(401, "missing_credentials"), (404, "route_not_found")}
PROVIDER_KEY_ON_OPERATOR_ROUTE = {(403, "admin_only"), (404, "route_not_found")}


def load(function: str) -> Any:
    """The committed document of ``function``, bound to the function's own WSGI app."""
    schema = schemathesis.openapi.from_path(SPECS / f"{function}.json")
    # Credentials are ours to choose per run; unknown query parameters are out of scope here.
    schema.config.generation.update(with_security_parameters=False, allow_extra_parameters=False)
    schema.app = functions_framework.create_app(
        target=function, source=str(ROOT / "functions" / function / "main.py")
    )
    return schema


def cases(schema: Any, **fixed: Any) -> st.SearchStrategy:
    """Positive and negative cases for every operation of the document."""
    return st.one_of(
        schema.as_strategy(generation_mode=GenerationMode.POSITIVE, **fixed),
        schema.as_strategy(generation_mode=GenerationMode.NEGATIVE, **fixed),
    )


def header_of(response: Any) -> Callable[[str], str | None]:
    def get(name: str) -> str | None:
        values = response.headers.get(name.lower())
        return values[0] if values else None

    return get


def exercise(
    campaign: Campaign,
    case: Any,
    headers: dict[str, str],
    expect: set[tuple[int, str]] | None = None,
) -> Any:
    """Send one case, apply every check, record findings. The response, or None."""
    label = f"{case.method} {case.operation.path}"
    try:
        response = case.call(headers=headers)
    except Exception as exc:  # an exception through the WSGI stack is a crash, like a 500
        campaign.case()
        campaign.fail(f"{label}: {type(exc).__name__} escaped the function", repro(case, headers))
        return None
    campaign.case(response.status_code)
    problems = contract_problems(response.status_code, header_of(response), response.content)
    if case.operation.path == "/openapi.json":  # the public document may be cached
        problems = [p for p in problems if "Cache-Control" not in p]
    if expect is not None and not is_public(case):
        got = (response.status_code, error_code(response.content))
        if got not in expect:
            due = " or ".join(f"{status} {code}" for status, code in sorted(expect))
            problems.append(f"{got[0]} {got[1]} where {due} was due")
    checks = list(CONFORMANCE)
    if (case.method.upper(), case.operation.path) not in PER_ITEM:
        checks.append(negative_data_rejection)
    try:
        case.validate_response(response, checks=checks, headers=headers)
    except BaseExceptionGroup as group:
        for failure in group.exceptions:
            title = getattr(failure, "title", type(failure).__name__)
            problems.append(f"schemathesis: {title} ({response.status_code})")
    if problems:
        # One finding per distinct set of symptoms: the same bug on several routes is reported once.
        campaign.fail("; ".join(sorted(set(problems))), f"{label}: {repro(case, headers)}")
    return response


def is_public(case: Any) -> bool:
    """Operations the document marks ``security: []`` (the OpenAPI document, the health check)."""
    return case.operation.definition.raw.get("security") == []


def repro(case: Any, headers: dict[str, str]) -> str:
    try:
        return case.as_curl_command(headers=headers)
    except Exception as exc:
        return f"{case.method} {case.formatted_path} body={case.body!r} ({type(exc).__name__})"


# -- functions/ingest -------------------------------------------------------------------------------


@pytest.mark.timeout(timeout_for(300, 0.08))
def test_ingest_with_a_provider_key(world: World) -> None:
    """Every ingest operation with the key of a fresh provider (analytics on) per case."""
    schema = load("ingest")
    campaign = Campaign("openapi ingest, provider key")

    @fuzz_settings(300)
    @given(case=cases(schema))
    def run(case: Any) -> None:
        provider_id, key = world.new_provider()
        headers = {"Authorization": f"Bearer {key}"}
        response = exercise(campaign, case, headers)
        kind = PER_ITEM.get((case.method.upper(), case.operation.path))
        if response is None or kind is None or response.status_code != 200:
            return
        try:
            answer = strict_json(response.content)
        except ValueError:
            return  # already a finding
        check_batch(campaign, world, provider_id, kind, case.body, answer, repro(case, headers))

    run()
    campaign.finish()


@pytest.mark.timeout(timeout_for(150, 0.05))
def test_ingest_without_credentials(world: World) -> None:
    schema = load("ingest")
    campaign = Campaign("openapi ingest, no credentials")

    @fuzz_settings(150)
    @given(case=cases(schema))
    def run(case: Any) -> None:
        exercise(campaign, case, {}, expect=NO_CREDENTIALS)

    run()
    campaign.finish()


# -- functions/providers ----------------------------------------------------------------------------


@pytest.mark.timeout(timeout_for(500, 0.05))
def test_providers_with_the_admin_token(world: World) -> None:
    """Operator routes with the operator token, on generated provider ids and on a real one."""
    world.new_provider(provider_id="acme1")
    schema = load("providers")
    campaign = Campaign("openapi providers, admin token")

    @fuzz_settings(500)
    @given(case=st.one_of(cases(schema), cases(schema, path_parameters={"providerId": "acme1"})))
    def run(case: Any) -> None:
        exercise(campaign, case, world.admin)

    run()
    campaign.finish()


@pytest.mark.timeout(timeout_for(150, 0.05))
def test_providers_without_credentials(world: World) -> None:
    world.new_provider(provider_id="acme1")
    schema = load("providers")
    campaign = Campaign("openapi providers, no credentials")

    @fuzz_settings(150)
    @given(case=st.one_of(cases(schema), cases(schema, path_parameters={"providerId": "acme1"})))
    def run(case: Any) -> None:
        exercise(campaign, case, {}, expect=NO_CREDENTIALS)

    run()
    campaign.finish()


@pytest.mark.timeout(timeout_for(150, 0.05))
def test_providers_with_a_provider_key(world: World) -> None:
    """A provider's own key never opens an operator route, not even for its own provider id."""
    provider_id, key = world.new_provider(provider_id="acme1")
    schema = load("providers")
    campaign = Campaign("openapi providers, provider key")
    headers = {"Authorization": f"Bearer {key}"}

    @fuzz_settings(150)
    @given(case=st.one_of(cases(schema), cases(schema, path_parameters={"providerId": provider_id})))
    def run(case: Any) -> None:
        exercise(campaign, case, headers, expect=PROVIDER_KEY_ON_OPERATOR_ROUTE)

    run()
    campaign.finish()
