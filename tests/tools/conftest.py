"""Fixtures of the local-stack suites: one stack per module, on free ports, in a temporary data dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tools.serve import LocalStack


def stack_processes(marker: str) -> list[int]:
    """Pids of live processes whose environment mentions ``marker`` (a test's own data dir): what a
    stack started and, once it has stopped, must not have left behind."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if marker.encode() in environ and state != "Z":
            pids.append(int(entry.name))
    return pids


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[LocalStack]:
    """The functions of this checkout as real processes; ``environ={}`` keeps a developer's
    ANALYTICS_* variables out, so nothing touches the repository's .local."""
    data_dir = tmp_path_factory.mktemp("stack")
    with LocalStack(
        data_dir=data_dir,
        ports=dict.fromkeys(("ingest", "providers", "aggregate", "report"), 0),
        environ={},
        echo=None,
    ) as running:
        yield running
