"""The wheel holds every module and data file, and imports without the repository on sys.path.

An editable install imports a subpackage that ``[tool.setuptools] packages`` forgot; the wheel would
not have it. This builds the wheel from a clean copy of the sources and imports every module from it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PACKAGE_DIRS: dict[str, str] = PYPROJECT["tool"]["setuptools"]["package-dir"]

PACKAGED_SUFFIXES = {".py", ".mako", ".csv", ".html", ".css", ".js"}
"""Source files the wheel must carry: modules, templates, data, the console's assets."""

# Modules that only run inside another tool: alembic executes env.py itself.
NOT_IMPORTABLE_ALONE = {"salur_cases.migrations.env"}

IMPORT_EVERYTHING = """
import importlib, json, pkgutil, sys
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
unpacked, skip = sys.argv[1], set(json.loads(sys.argv[2]))
import salur_cases
imported, errors = [], []
def onerror(name):
    errors.append(name)
for info in pkgutil.walk_packages(salur_cases.__path__, "salur_cases.", onerror=onerror):
    if info.name in skip:
        continue
    module = importlib.import_module(info.name)
    imported.append(info.name)
outside = sorted(
    name for name, module in sys.modules.items()
    if name.split(".")[0] == "salur_cases"
    and getattr(module, "__file__", None)
    and not module.__file__.startswith(unpacked)
)
print(json.dumps({"imported": imported, "errors": errors, "outside": outside}))
"""


def _copy_sources(destination: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, destination / name)
    for directory in {d.split("/")[0] for d in PACKAGE_DIRS.values()}:
        shutil.copytree(ROOT / directory, destination / directory, ignore=ignore)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built without isolation from a clean copy (no stale build/ directory)."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    source.mkdir()
    _copy_sources(source)
    dist = tmp / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(source)],
        check=True,
        capture_output=True,
        cwd=tmp,
        timeout=300,
    )
    (built,) = dist.glob("salur_cases-*.whl")
    return built


def _wheel_names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


@pytest.mark.slow
def test_wheel_holds_the_mapped_packages_and_data(wheel: Path) -> None:
    names = _wheel_names(wheel)
    for required in (
        "salur_cases/__init__.py",
        "salur_cases/py.typed",
        "salur_cases/projections/__init__.py",
        "salur_cases/api/__init__.py",
        "salur_cases/migrations/__init__.py",
        "salur_cases/migrations/env.py",
        "salur_cases/migrations/script.py.mako",
        "salur_cases/migrations/versions/__init__.py",
        "salur_cases/data/wilayah-kota-bogor.csv",
    ):
        assert required in names, f"{required} is missing from the wheel"
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    with zipfile.ZipFile(wheel) as archive:
        assert "salur = salur_cases.cli:main" in archive.read(entry_points).decode()


@pytest.mark.slow
def test_every_source_file_has_a_counterpart_in_the_wheel(wheel: Path) -> None:
    names = _wheel_names(wheel)
    subpackage_dirs = {(ROOT / d).resolve() for n, d in PACKAGE_DIRS.items() if "." in n}
    missing = []
    for package, directory in PACKAGE_DIRS.items():
        base = ROOT / directory
        for path in sorted(base.rglob("*")):
            if path.suffix not in PACKAGED_SUFFIXES or "__pycache__" in path.parts:
                continue
            if package == "salur_cases" and any(d in path.resolve().parents for d in subpackage_dirs):
                continue
            inside = "/".join([*package.split("."), *path.relative_to(base).parts])
            if inside not in names:
                missing.append(f"{path.relative_to(ROOT)} -> {inside}")
    assert not missing, "not in the wheel (list the subpackage in pyproject.toml): " + ", ".join(missing)


@pytest.mark.slow
def test_every_module_imports_from_the_wheel(wheel: Path, tmp_path: Path) -> None:
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(unpacked)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(unpacked)
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERYTHING, str(unpacked), json.dumps(sorted(NOT_IMPORTABLE_ALONE))],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert not report["errors"], report["errors"]
    assert not report["outside"], f"imported from outside the wheel: {report['outside']}"
    for expected in ("salur_cases.identifiers", "salur_cases.wilayah", "salur_cases.projections"):
        assert expected in report["imported"]
    # The packaged reference data loads from the wheel too.
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            "import salur_cases.wilayah as w; print(len(w.all_kelurahan()))",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=True,
    )
    assert check.stdout.strip() == "68"
