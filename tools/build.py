"""Reproducible per-function deployment bundles: ``make build`` (``python -m tools.build``).

One zip per ``functions/<name>/main.py``, written to ``build/<name>-<sha12>.zip``:

- the function's own ``*.py`` files (``main.py`` among them) at the zip root: Cloud Functions imports
  ``main`` from the root of the source;
- the ``shared/`` package: ``.py`` files and the data files it reads at run time (``DATA_SUFFIXES``),
  never caches or bytecode. Any other file there stops the build, so nothing is shipped or left out
  by accident;
- the pinned ``requirements.txt`` of the repository (every line ``name==version``), which the Cloud
  Functions build installs.

Same inputs give byte-identical archives: entries are sorted, every entry carries the same timestamp
(1980-01-01, the zip epoch) and mode (0644), and entries are *stored*, not deflated, so the bytes do not
depend on the zlib version of the machine that builds (the bundles are a few hundred KiB either way).
The name carries the first 12 hex digits of the archive's sha256, so Terraform uploads a new object and
redeploys exactly when the content changed. ``build/bundles.json`` maps each function to its bundle;
Terraform reads it.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = "bundles.json"

# Files of ``shared/`` that the code may read at run time and therefore ship.
DATA_SUFFIXES = frozenset(
    {".json", ".sql", ".yaml", ".yml", ".txt", ".html", ".jinja", ".j2", ".css", ".csv"}
)
# Never shipped: bytecode, caches, editor and OS litter, documentation.
IGNORED_DIRS = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"})
IGNORED_SUFFIXES = frozenset({".pyc", ".pyo", ".md", ".rst", ".swp", ".orig", ".rej", ".bak"})
IGNORED_NAMES = frozenset({".DS_Store", "Thumbs.db"})

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # regular file, rw-r--r--
_PINNED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,-]+\])?===?[A-Za-z0-9.+!*-]+(\s*;.*)?$")


class BuildError(Exception):
    """The inputs cannot make a deployable bundle; the message says why and what to do."""


@dataclass(frozen=True)
class Bundle:
    function: str
    path: Path
    sha256: str

    @property
    def file(self) -> str:
        return self.path.name


def function_names(root: Path = ROOT) -> list[str]:
    """Every ``functions/<name>/`` that holds a ``main.py``, sorted."""
    return sorted(p.parent.name for p in (root / "functions").glob("*/main.py"))


def _ignored(rel: Path) -> bool:
    return (
        any(part in IGNORED_DIRS or part.startswith(".") for part in rel.parts[:-1])
        or rel.name in IGNORED_NAMES
        or rel.name.startswith(".")
        or rel.suffix in IGNORED_SUFFIXES
        or rel.name.endswith("~")
    )


def shared_files(root: Path = ROOT) -> list[Path]:
    """The files of ``shared/`` that belong in a bundle, relative to ``root``."""
    base = root / "shared"
    if not (base / "__init__.py").is_file():
        raise BuildError(f"{base.relative_to(root)}/__init__.py is missing: shared/ must be a package")
    chosen: list[Path] = []
    unknown: list[str] = []
    for path in sorted(base.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(root)
        if _ignored(rel):
            continue
        if path.suffix == ".py" or path.suffix in DATA_SUFFIXES or path.name == "py.typed":
            chosen.append(rel)
        else:
            unknown.append(rel.as_posix())
    if unknown:
        raise BuildError(
            "shared/ holds files the build neither ships nor ignores: "
            + ", ".join(unknown)
            + ". Add their suffix to DATA_SUFFIXES (read at run time) or IGNORED_SUFFIXES in tools/build.py."
        )
    return chosen


def pinned_requirements(root: Path = ROOT) -> bytes:
    """``requirements.txt`` as bytes, after checking every requirement is pinned to one version."""
    path = root / "requirements.txt"
    data = path.read_bytes()
    loose = []
    for number, raw in enumerate(data.decode("utf-8").splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if not _PINNED.match(line):
            loose.append(f"line {number}: {raw.strip()!r}")
    if loose:
        raise BuildError(
            "requirements.txt must pin every runtime dependency as name==version "
            "(no ranges, includes, URLs or editable installs): " + "; ".join(loose)
        )
    return data


def bundle_entries(name: str, root: Path = ROOT) -> list[tuple[str, bytes]]:
    """(archive path, content) of one function's bundle, sorted by path."""
    folder = root / "functions" / name
    if not (folder / "main.py").is_file():
        raise BuildError(f"functions/{name}/main.py does not exist")
    entries: dict[str, bytes] = {}
    for path in sorted(folder.glob("*.py")):
        entries[path.name] = path.read_bytes()
    for rel in shared_files(root):
        entries[rel.as_posix()] = (root / rel).read_bytes()
    if "requirements.txt" in entries:
        raise BuildError(f"functions/{name}/requirements.txt would shadow the pinned root requirements.txt")
    entries["requirements.txt"] = pinned_requirements(root)
    return sorted(entries.items())


def archive(entries: list[tuple[str, bytes]]) -> bytes:
    """A zip of ``entries`` whose bytes depend on nothing but the entries."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as zf:
        for arcname, content in entries:
            info = zipfile.ZipInfo(arcname, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 3  # Unix, so the mode below is honoured
            info.external_attr = FILE_MODE << 16
            zf.writestr(info, content)
    return buffer.getvalue()


def build(out: Path, names: list[str] | None = None, root: Path = ROOT) -> list[Bundle]:
    """Write one bundle per function into ``out`` (older bundles of those functions are removed) and
    the manifest ``out/bundles.json``; return the bundles."""
    names = names or function_names(root)
    if not names:
        raise BuildError("no functions/<name>/main.py found: nothing to build")
    out.mkdir(parents=True, exist_ok=True)
    bundles: list[Bundle] = []
    for name in names:
        data = archive(bundle_entries(name, root))
        digest = hashlib.sha256(data).hexdigest()
        target = out / f"{name}-{digest[:12]}.zip"
        for stale in out.glob(f"{name}-*.zip"):
            if stale != target and re.fullmatch(rf"{re.escape(name)}-[0-9a-f]{{12}}\.zip", stale.name):
                stale.unlink()
        if not target.is_file() or target.read_bytes() != data:
            tmp = target.with_suffix(".zip.tmp")
            tmp.write_bytes(data)
            tmp.replace(target)
        bundles.append(Bundle(name, target, digest))
    manifest = {b.function: {"file": b.file, "sha256": b.sha256} for b in bundles}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return bundles


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build", help="output folder (default: build/)")
    parser.add_argument("functions", nargs="*", help="function names (default: every functions/*/main.py)")
    args = parser.parse_args(argv)
    try:
        bundles = build(args.out, args.functions or None)
    except BuildError as exc:
        print(f"build: {exc}", file=sys.stderr)
        return 1
    # sha256sum's format, so `sha256sum -c` can check a listing against the files in the output folder.
    for bundle in bundles:
        print(f"{bundle.sha256}  {bundle.file}")
    print(f"build: {len(bundles)} bundle(s) in {args.out}, manifest {args.out / MANIFEST}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
