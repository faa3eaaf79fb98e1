"""The deployment bundles: reproducible, complete, and installable from their own requirements.txt."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from tests.infra.terraform import ROOT
from tools import build as bundler

STAMP = ".venv/.installed"


def make_build(out: Path) -> list[str]:
    """`make build` into ``out``; the "sha256  file" lines it prints. ``-o`` keeps make from
    re-installing the dev venv (this test is about the bundles, not the venv)."""
    result = subprocess.run(
        ["make", "-s", "-o", STAMP, "build", f"BUILD_DIR={out}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return [line for line in result.stdout.splitlines() if re.fullmatch(r"[0-9a-f]{64}  \S+\.zip", line)]


def test_make_build_twice_gives_identical_bundles(tmp_path):
    first, second = make_build(tmp_path / "a"), make_build(tmp_path / "b")
    names = bundler.function_names()
    assert len(first) == len(names), first
    assert first == second, "two builds of the same tree differ"
    for line in first:
        digest, file = line.split("  ")
        assert file == f"{file.split('-')[0]}-{digest[:12]}.zip", "the name carries the content hash"
        data_a, data_b = (tmp_path / "a" / file).read_bytes(), (tmp_path / "b" / file).read_bytes()
        assert data_a == data_b
        assert hashlib.sha256(data_a).hexdigest() == digest
    manifest = json.loads((tmp_path / "a" / bundler.MANIFEST).read_text(encoding="utf-8"))
    assert set(manifest) == set(names)
    assert manifest == json.loads((tmp_path / "b" / bundler.MANIFEST).read_text(encoding="utf-8"))


def test_bundle_layout(tmp_path):
    requirements = (ROOT / "requirements.txt").read_bytes()
    shared = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "shared").rglob("*.py")
        if "__pycache__" not in p.parts
    }
    for bundle in bundler.build(tmp_path):
        with zipfile.ZipFile(bundle.path) as zf:
            infos = zf.infolist()
            names = [i.filename for i in infos]
            assert names == sorted(names), "entries are sorted"
            assert "main.py" in names, "main.py sits at the zip root"
            assert zf.read("main.py") == (ROOT / "functions" / bundle.function / "main.py").read_bytes()
            assert zf.read("requirements.txt") == requirements
            assert shared <= set(names), f"missing from the bundle: {shared - set(names)}"
            assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".pyo"))]
            assert {i.date_time for i in infos} == {bundler.ZIP_EPOCH}
            assert {i.external_attr >> 16 for i in infos} == {bundler.FILE_MODE}
            assert zf.testzip() is None


def _tree(root: Path, requirements: str = "flask==3.1.3\n") -> Path:
    (root / "functions" / "hello").mkdir(parents=True)
    (root / "functions" / "hello" / "main.py").write_text("def hello(request):\n    return 'hi'\n")
    (root / "shared").mkdir()
    (root / "shared" / "__init__.py").write_text("")
    (root / "requirements.txt").write_text(requirements)
    return root


def test_a_changed_input_changes_the_hash_and_replaces_the_old_bundle(tmp_path):
    root = _tree(tmp_path / "src")
    out = tmp_path / "out"
    (before,) = bundler.build(out, root=root)
    (root / "shared" / "__init__.py").write_text("VERSION = 2\n")
    (after,) = bundler.build(out, root=root)
    assert before.sha256 != after.sha256
    assert sorted(p.name for p in out.glob("hello-*.zip")) == [after.file], "the stale bundle is removed"
    os.utime(root / "shared" / "__init__.py", (0, 0))  # timestamps do not matter, only content
    (again,) = bundler.build(out, root=root)
    assert again.sha256 == after.sha256


def test_unpinned_requirements_are_refused(tmp_path):
    root = _tree(tmp_path, requirements="flask>=3\n")
    with pytest.raises(bundler.BuildError, match="pin every runtime dependency"):
        bundler.build(tmp_path / "out", root=root)


def test_unknown_files_in_shared_are_refused_and_caches_ignored(tmp_path):
    root = _tree(tmp_path)
    (root / "shared" / "__pycache__").mkdir()
    (root / "shared" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    (root / "shared" / "catalog.json").write_text("{}")
    (bundle,) = bundler.build(tmp_path / "out", root=root)
    with zipfile.ZipFile(bundle.path) as zf:
        assert "shared/catalog.json" in zf.namelist()
        assert not any("__pycache__" in n for n in zf.namelist())
    (root / "shared" / "model.bin").write_bytes(b"\0")
    with pytest.raises(bundler.BuildError, match=r"model\.bin"):
        bundler.build(tmp_path / "out", root=root)


# ---------------------------------------------------------------------- fresh-venv install + import

# Run inside the fresh venv, from the unpacked bundle, in isolated mode (-I: no PYTHONPATH, no user
# site), the way Cloud Functions loads a source: functions-framework imports main.py by path. Then
# every module of the bundle's shared/ is imported (a lazily imported dependency fails here too), and
# the unauthenticated health route is called.
_SMOKE = r"""
import importlib, json, pkgutil, sys
from pathlib import Path
source, target = Path(sys.argv[1]), sys.argv[2]
import functions_framework
app = functions_framework.create_app(target=target, source=str(source / "main.py"))
import shared
assert Path(shared.__file__).resolve().is_relative_to(source.resolve()), shared.__file__
modules = [m.name for m in pkgutil.walk_packages(shared.__path__, "shared.")]
for name in modules:
    importlib.import_module(name)
response = app.test_client().get("/healthz")
print(json.dumps({"modules": len(modules), "health": response.status_code}))
"""


def _interpreter() -> str:
    """Python 3.12 (the Cloud Functions runtime) when this machine has a working one, else this one."""
    candidate = shutil.which("python3.12")
    if candidate:
        probe = subprocess.run([candidate, "-c", "import venv"], capture_output=True, timeout=60)
        if probe.returncode == 0:
            return candidate
    return sys.executable


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "PIP_REQUIRE"))}
    env.pop("ANALYTICS_STORE", None)
    env.pop("ANALYTICS_WAREHOUSE", None)
    return env


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_each_bundle_installs_into_a_fresh_venv_and_imports(tmp_path):
    started = time.monotonic()
    bundles = bundler.build(tmp_path / "build")
    interpreter = _interpreter()
    env = _clean_env()
    venvs: dict[str, Path] = {}  # one fresh venv per distinct requirements.txt
    report = []
    for bundle in bundles:
        source = tmp_path / "src" / bundle.function
        with zipfile.ZipFile(bundle.path) as zf:
            zf.extractall(source)
        requirements = (source / "requirements.txt").read_bytes()
        key = hashlib.sha256(requirements).hexdigest()
        if key not in venvs:
            target = tmp_path / f"venv-{key[:8]}"
            subprocess.run([interpreter, "-m", "venv", str(target)], check=True, env=env, timeout=300)
            python = target / "bin" / "python"
            pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--quiet"]
            install = subprocess.run(
                [*pip, "-r", str(source / "requirements.txt")],
                capture_output=True,
                text=True,
                env=env,
                timeout=900,
            )
            assert install.returncode == 0, (
                f"pip install -r {bundle.file}/requirements.txt:\n{install.stderr}"
            )
            venvs[key] = python
        smoke = subprocess.run(
            [str(venvs[key]), "-I", "-c", _SMOKE, str(source), bundle.function],
            cwd=source,
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        assert smoke.returncode == 0, f"{bundle.file} does not import in a fresh venv:\n{smoke.stderr}"
        result = json.loads(smoke.stdout.strip().splitlines()[-1])
        assert result["health"] == 200, f"{bundle.function}: GET /healthz answered {result['health']}"
        report.append(f"{bundle.function}: {result['modules']} shared modules imported")
    print(
        f"\nfresh-venv check with {interpreter}: {len(venvs)} venv(s) for {len(bundles)} bundle(s) "
        f"in {time.monotonic() - started:.0f}s; " + "; ".join(report)
    )
