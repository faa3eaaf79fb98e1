"""Starts the ``bqemulator`` BigQuery API emulator with three of its defects worked around.

Run by the emulator's own virtual environment (it pins an older sqlglot than the project), never
imported by the project: ``python bqemulator_launch.py start --rest-port ... --grpc-port ...``.
The patches apply to this process only; the installed package is left as it is.

1. Offline, the emulator refuses to start because it installs DuckDB's ``spatial`` extension from
   the network: skipped (the project uses no GEOGRAPHY).
2. It rejects the official client's multipart load uploads, whose data part says
   ``Content-Type: */*``: that type is allowed.
3. A script's ``CREATE TEMP TABLE`` outlives the script (the next script gets ``409 Already Exists``),
   where BigQuery scopes temporary tables to their script: a script's temporary tables replace
   those a previous script left behind.

A fourth difference needs no patch: the emulator wants ``write_stream`` on every ``AppendRows``
request of a connection, where BigQuery needs it on the first only; the sink always sends it, which
BigQuery accepts too (``shared/sink/bigquery_write.py``).
"""

from __future__ import annotations

import re
import sys


def _patch() -> None:
    from bqemulator.api.routes import upload
    from bqemulator.scripting import interpreter
    from bqemulator.storage import engine

    engine.DuckDBEngine._load_spatial = lambda self: None  # type: ignore[method-assign]
    upload._PERMITTED_MEDIA_CONTENT_TYPES = (*upload._PERMITTED_MEDIA_CONTENT_TYPES, "*/*")

    temp = re.compile(r"\bCREATE\s+TEMP(ORARY)?\s+TABLE\b", re.IGNORECASE)
    run = interpreter.ScriptInterpreter.run

    async def scoped(self, source: str):  # type: ignore[no-untyped-def]
        return await run(self, temp.sub("CREATE OR REPLACE TEMP TABLE", source))

    interpreter.ScriptInterpreter.run = scoped  # type: ignore[method-assign]


if __name__ == "__main__":
    _patch()
    from bqemulator.cli import main

    sys.argv[0] = "bqemulator"
    sys.exit(main())
