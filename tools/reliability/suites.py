"""The existing pytest suites ``make reliability`` runs longer: the fuzz campaigns (with
``CA_FUZZ_EXAMPLES`` raised) and the authorization matrix, with their figures read from pytest's output."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from tools.serve import ROOT

FUZZ_LINE = re.compile(
    r"^fuzz: (?!total)(?P<name>.+?): (?P<cases>\d+) cases in [\d.]+s \[(?P<statuses>[^\]]*)\] (?P<verdict>.+)$"
)
FUZZ_TOTAL = re.compile(
    r"^fuzz: total (?P<cases>\d+) cases in (?P<seconds>[\d.]+)s over (?P<campaigns>\d+) campaigns$"
)
OUTCOME = re.compile(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed)")


@dataclass
class SuiteResult:
    name: str
    command: str
    exit_code: int = 0
    seconds: float = 0.0
    outcomes: dict[str, int] = field(default_factory=dict)
    campaigns: list[dict[str, Any]] = field(default_factory=list)
    total_cases: int = 0
    tail: str = ""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "command": self.command,
            "exit_code": self.exit_code,
            "seconds": round(self.seconds, 1),
            "outcomes": self.outcomes,
        }
        if self.campaigns:
            out["campaigns"] = self.campaigns
        if self.total_cases:
            out["total_cases"] = self.total_cases
        if not self.ok:
            out["tail"] = self.tail
        return out


def run_pytest(name: str, paths: list[str], env: dict[str, str] | None = None) -> SuiteResult:
    """``python -m pytest -q PATHS`` from the repository root; its summary parsed."""
    shown_env = " ".join(f"{k}={v}" for k, v in (env or {}).items())
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *paths]
    result = SuiteResult(name, f"{shown_env + ' ' if shown_env else ''}python -m pytest -q {' '.join(paths)}")
    started = time.monotonic()
    completed = subprocess.run(
        command, cwd=ROOT, env={**os.environ, **(env or {})}, capture_output=True, text=True, check=False
    )
    result.seconds = time.monotonic() - started
    result.exit_code = completed.returncode
    lines = completed.stdout.splitlines()
    result.tail = "\n".join(lines[-40:])
    summary = next((line for line in reversed(lines) if " in " in line and OUTCOME.search(line)), "")
    result.outcomes = {kind: int(n) for n, kind in OUTCOME.findall(summary)}
    for line in lines:
        if match := FUZZ_LINE.match(line.strip()):
            statuses = {
                s: int(n) for s, n in (pair.split("x") for pair in match["statuses"].split(", ") if pair)
            }
            result.campaigns.append(
                {
                    "name": match["name"],
                    "cases": int(match["cases"]),
                    "statuses": statuses,
                    "verdict": match["verdict"],
                }
            )
        elif match := FUZZ_TOTAL.match(line.strip()):
            result.total_cases = int(match["cases"])
    return result


def fuzz(examples: int) -> SuiteResult:
    return run_pytest("fuzz", ["tests/fuzz"], {"CA_FUZZ_EXAMPLES": str(examples)})


def authorization_matrix() -> SuiteResult:
    result = run_pytest("authorization matrix", ["tests/security/test_authorization_matrix.py"])
    from tests.security.test_authorization_matrix import COLUMNS, MATRIX

    result.campaigns = []
    result.total_cases = len(MATRIX) * len(COLUMNS)
    return result
