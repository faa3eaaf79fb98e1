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
# the unauthenticated routes are called: the health check and the OpenAPI document.
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
client = app.test_client()
health, spec = client.get("/healthz"), client.get("/openapi.json")
assert spec.status_code == 200 and spec.get_json()["openapi"].startswith("3."), spec.status_code
print(json.dumps({"modules": len(modules), "health": health.status_code}))
"""


RUNTIME = "3.12"  # infra/functions.tf: runtime python312


def _works(candidate: str) -> bool:
    probe = subprocess.run(
        [candidate, "-c", f"import sys, venv; assert sys.version.startswith('{RUNTIME}.')"],
        capture_output=True,
        timeout=60,
    )
    return probe.returncode == 0


def _interpreter() -> str:
    """The Cloud Functions runtime's Python (3.12) when this machine has one - on PATH, or installed
    with pyenv but not selected - else the Python running the tests (the bundle must work on both)."""
    candidates = [shutil.which(f"python{RUNTIME}")]
    pyenv = shutil.which("pyenv")
    if pyenv:
        root = subprocess.run([pyenv, "root"], capture_output=True, text=True, timeout=60).stdout.strip()
        installed = sorted(
            Path(root).glob(f"versions/{RUNTIME}.*/bin/python{RUNTIME}"),
            key=lambda p: [int(x) if x.isdigit() else -1 for x in p.parents[1].name.split(".")],
        )
        candidates += [str(p) for p in reversed(installed)]
    for candidate in candidates:
        if candidate and _works(candidate):
            return candidate
    return sys.executable


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "PIP_REQUIRE"))}
    env.pop("ANALYTICS_STORE", None)
    env.pop("ANALYTICS_WAREHOUSE", None)
    return env


# Wheels of the bundles' requirements, per interpreter and requirements.txt, kept between runs in the
# git-ignored .local/ so that only the first run downloads (about 110 MB); later runs install offline.
WHEELHOUSE = ROOT / ".local" / "wheelhouse"


def _pip(python: Path, *args: str) -> list[str]:
    return [str(python), "-m", "pip", *args, "--disable-pip-version-check", "--quiet"]


def _wheelhouse(python: Path, requirements: Path, env: dict[str, str]) -> Path:
    """A folder with a wheel for every distribution ``requirements`` resolves to on ``python``."""
    tag = subprocess.run(
        [
            str(python),
            "-c",
            "import sys, sysconfig; print(sys.implementation.cache_tag, sysconfig.get_platform())",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    key = hashlib.sha256(requirements.read_bytes()).hexdigest()[:12]
    prefix = f"{tag[0]}-{tag[1]}-"
    target = WHEELHOUSE / f"{prefix}{key}"
    if (target / ".complete").is_file():
        return target
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    partial = WHEELHOUSE / f".partial-{prefix}{key}-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    built = subprocess.run(
        [*_pip(python, "wheel", "--wheel-dir", str(partial)), "-r", str(requirements)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert built.returncode == 0, f"pip wheel -r requirements.txt:\n{built.stderr}"
    (partial / ".complete").touch()
    for stale in WHEELHOUSE.glob(f"{prefix}*"):  # an older requirements.txt's wheels
        shutil.rmtree(stale, ignore_errors=True)
    try:
        partial.rename(target)
    except OSError:  # another run finished the same wheelhouse first
        shutil.rmtree(partial, ignore_errors=True)
    return target


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
            wheels = _wheelhouse(python, source / "requirements.txt", env)
            # Offline, from the wheelhouse only, with full dependency resolution: a dependency that
            # requirements.txt does not bring in fails here. No .pyc compilation (time, not coverage).
            install = subprocess.run(
                [
                    *_pip(python, "install", "--no-compile", "--no-index", "--find-links", str(wheels)),
                    *("-r", str(source / "requirements.txt")),
                ],
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
