"""The README's "API in one minute" works as written against a running local stack.

The curl commands are read from README.md itself, so the example and this test cannot drift apart;
only ``localhost:PORT`` is pointed at the test's stack and the admin token read from its file.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest
import requests

from tools.serve import DEFAULT_PORTS, ROOT, LocalStack

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Curl:
    method: str
    port: int
    path: str
    body: str


def readme_curls() -> list[Curl]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## The API in one minute") :]
    script = section[section.index("```sh") + len("```sh") : section.index("```", section.index("```sh") + 5)]
    lexer = shlex.shlex(script.replace("\\\n", " "), posix=True)  # '#' starts a comment, as in sh
    lexer.whitespace_split = True
    tokens = list(lexer)
    starts = [i for i, t in enumerate(tokens) if t.endswith("curl")]
    commands = []
    for start, end in zip(starts, [*starts[1:], len(tokens)], strict=True):
        words = tokens[start:end]
        url = next(w for w in words if w.startswith("localhost:"))
        port, path = url.removeprefix("localhost:").split("/", 1)
        commands.append(
            Curl(words[words.index("-X") + 1], int(port), "/" + path, words[words.index("-d") + 1])
        )
    return commands


def test_the_readme_example_answers_as_the_readme_says(stack: LocalStack) -> None:
    curls = readme_curls()
    assert [(c.method, c.path) for c in curls] == [
        ("POST", "/v1/providers"),
        ("PATCH", "/v1/providers/contoso-voice"),
        ("POST", "/v1/conversations"),
        ("POST", "/v1/events"),
        ("POST", "/v1/events"),
        ("POST", "/"),
    ]
    by_port = {port: name for name, port in DEFAULT_PORTS.items()}
    assert stack.admin_token_path is not None
    admin = f"Bearer {stack.admin_token_path.read_text().strip()}"  # ADMIN="... $(cat .local/admin_token)"
    key = ""
    answers = []
    for curl in curls:
        function = by_port[curl.port]
        token = admin if function in ("providers", "aggregate") else f"Bearer {key}"
        if function == "aggregate":
            time.sleep(6)  # "sleep 6": the aggregation reads what arrived at least 5 s ago
        answer = requests.request(
            curl.method,
            stack.url(function) + curl.path,
            data=curl.body.encode(),
            headers={"Authorization": token, "Content-Type": "application/json"},
            timeout=10,
        )
        assert answer.status_code in (200, 201), (curl, answer.text)
        if curl.path == "/v1/providers":
            key = answer.json()["apiKey"]
        answers.append(answer)
    assert answers[2].status_code == 201
    events = answers[3].json()
    assert (events["accepted"], events["duplicates"], events["rejected"]) == (2, 0, 0)
    # "sending the same request again answers duplicates: 2"
    again = requests.post(
        stack.url("ingest") + curls[3].path,
        data=curls[3].body.encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        timeout=10,
    ).json()
    assert (again["accepted"], again["duplicates"]) == (0, 2)
    assert re.fullmatch(r"[A-Za-z0-9_.-]{20,}", key)
    closed = answers[4].json()
    assert (closed["accepted"], closed["rejected"]) == (2, 0)
    run = answers[5].json()
    assert run["status"] == "ok" and run["days"] == ["2026-11-23"] and run["kpiRowsWritten"] > 0
    # The BI read-back, as README.md writes it, on this stack's warehouse.
    text = (ROOT / "README.md").read_text()
    script = text[text.index("<<'SQL'\n") + len("<<'SQL'\n") : text.index("\nSQL\n")]
    warehouse = stack.warehouse_url.removeprefix("duckdb:///")
    shown = subprocess.run(
        [sys.executable, "-c", script.replace(".local/warehouse.duckdb", warehouse)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    rows = {
        line.split("│")[1].strip(): line.split("│")[2].strip()
        for line in shown.stdout.splitlines()
        if line.count("│") >= 5 and "_" in line
    }
    assert rows == {"abandon_rate": "0.0", "avg_speed_to_answer_s": "31.0", "conversations_handled": "1.0"}, (
        shown.stdout
    )
