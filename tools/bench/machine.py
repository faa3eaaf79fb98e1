"""The machine a bench ran on: what a reader needs to compare figures across runs."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psutil


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


@dataclass(frozen=True)
class Machine:
    cores: int
    memory_gib: float
    cpu: str
    python: str
    system: str
    duckdb: str

    @classmethod
    def current(cls) -> Machine:
        return cls(
            cores=os.cpu_count() or 1,
            memory_gib=psutil.virtual_memory().total / 2**30,
            cpu=_cpu_model(),
            python=platform.python_version(),
            system=f"{platform.system()} {platform.release()}",
            duckdb=duckdb.__version__,
        )

    def rows(self) -> list[tuple[str, str]]:
        return [
            ("cores", str(self.cores)),
            ("memory", f"{self.memory_gib:.1f} GiB"),
            ("CPU", self.cpu),
            ("Python", self.python),
            ("system", self.system),
            ("DuckDB", self.duckdb),
        ]

    def summary(self) -> str:
        return f"{self.cores} cores, {self.memory_gib:.1f} GiB, {self.cpu}, Python {self.python}"
