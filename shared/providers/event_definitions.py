"""Custom KPI events per provider (System events come from the registry and cannot be redefined)."""

from __future__ import annotations

from datetime import datetime

from shared.errors import ApiError, validate_request
from shared.providers.service import require_provider
from shared.schema.provider import EventDefinitionBody, EventDefinitionIn, EventDefinitionOut
from shared.schema.registry import STANDARD_EVENTS, custom_spec
from shared.store.port import Store
from shared.store.records import EventDefinition


def _out(d: EventDefinition) -> EventDefinitionOut:
    return EventDefinitionOut(
        name=d.name,
        kind="Custom",
        version=d.version,
        active=d.active,
        description=d.description,
        schema=custom_spec(d.provider_id, d.name, d.version).schema_uri,
    )


def put_definition(
    store: Store, provider_id: str, name: str, body: dict, now: datetime
) -> tuple[int, EventDefinitionOut]:
    require_provider(store, provider_id)
    validate_request(EventDefinitionBody, body)  # refuses a "name" in the body: the path names the event
    req = validate_request(EventDefinitionIn, {**body, "name": name})
    if req.name in STANDARD_EVENTS:
        raise ApiError(
            409, "system_event", f"{req.name!r} is a standard (System) event and cannot be redefined"
        )
    existing = store.get_event_definition(provider_id, req.name)
    definition = EventDefinition(
        provider_id=provider_id,
        name=req.name,
        version=req.version,
        active=req.active,
        description=req.description,
        created_at=existing.created_at if existing else now,
        updated_at=now,
    )
    store.put_event_definition(definition)
    return (200 if existing else 201), _out(definition)


def list_definitions(store: Store, provider_id: str) -> list[EventDefinitionOut]:
    """Every event this provider may log: the System registry, then its Custom events."""
    system = [
        EventDefinitionOut(
            name=s.name,
            kind="System",
            version=s.version,
            active=True,
            description=s.description,
            schema=s.schema_uri,
        )
        for s in STANDARD_EVENTS.values()
    ]
    return system + [_out(d) for d in store.list_event_definitions(provider_id)]
