"""The Terraform configuration in ``infra/`` as Python data (python-hcl2), for offline checks.

Nothing here talks to Google Cloud or needs the terraform binary: ``terraform validate`` needs the
providers, which cannot be downloaded offline, so the tests check the structure instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"

_OPTIONS = SerializationOptions(with_comments=False, explicit_blocks=False, strip_string_quotes=True)


@dataclass
class Config:
    resources: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    ephemeral: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    terraform: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, dict[str, Any]] = field(default_factory=dict)

    def resource(self, type_: str, name: str) -> dict[str, Any]:
        try:
            return self.resources[type_][name]
        except KeyError as exc:
            raise AssertionError(f"infra/ declares no resource {type_}.{name}") from exc


def _add(target: dict[str, dict[str, Any]], blocks: list[dict[str, Any]], where: str) -> None:
    for block in blocks:
        for type_, named in block.items():
            for name, body in named.items():
                if name in target.setdefault(type_, {}):
                    raise AssertionError(f"{type_}.{name} is declared twice ({where})")
                target[type_][name] = body


@cache
def load() -> Config:
    config = Config()
    for path in sorted(INFRA.glob("*.tf")):
        with path.open(encoding="utf-8") as handle:
            data = hcl2.load(handle, serialization_options=_OPTIONS)
        config.files[path.name] = data
        _add(config.resources, data.get("resource", []), path.name)
        _add(config.ephemeral, data.get("ephemeral", []), path.name)
        for block in data.get("locals", []):
            for key, value in block.items():
                assert key not in config.locals, f"local.{key} is declared twice"
                config.locals[key] = value
        for block in data.get("variable", []):
            config.variables.update(block)
        for block in data.get("output", []):
            config.outputs.update(block)
        config.terraform.extend(data.get("terraform", []))
    return config


def first(value: Any) -> Any:
    """A nested block is a list of one dict; give the dict."""
    if isinstance(value, list):
        assert len(value) == 1, f"expected one block, got {len(value)}"
        return value[0]
    return value


def strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(where, string) for every string anywhere in ``value``, keys included."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield f"{path}.{key}", str(key)
            yield from strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings(item, f"{path}[{index}]")


def ref(expression: str) -> str:
    """``${expr}`` -> ``expr`` (whitespace normalised), for comparing references."""
    match = re.fullmatch(r"\$\{(.*)\}", expression.strip(), flags=re.S)
    assert match, f"not a single interpolation: {expression!r}"
    return re.sub(r"\s+", " ", match.group(1)).strip()
