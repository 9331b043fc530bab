"""Packaging and repository-layout checks."""

import shutil
import subprocess
import sys
import zipfile

import pytest

from conftest import addon_names, read_manifest

DATA_SUFFIXES = (".xml", ".csv")
IGNORED = shutil.ignore_patterns(
    ".git", "build", "dist", "*.egg-info", "__pycache__", "*.pyc", ".pytest_cache"
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory, repo, addons, venv_python, run):
    """Build the wheel from a clean copy of the repository (no stale build/)."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(repo, src, ignore=IGNORED)
    out = tmp / "dist"
    run([venv_python, "-m", "pip", "wheel", "--no-deps", "-q", "-w", out, src])
    wheels = list(out.glob("odoo_billing_automation-18.0.1.0.0-*.whl"))
    assert len(wheels) == 1, f"expected one wheel in {out}: {list(out.iterdir())}"
    with zipfile.ZipFile(wheels[0]) as zf:
        return set(zf.namelist())


def _addon_files(repo, addon):
    root = repo / addon
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            yield path.relative_to(root).as_posix()


def test_wheel_has_no_namespace_init(wheel):
    assert "odoo/__init__.py" not in wheel
    assert "odoo/addons/__init__.py" not in wheel


def test_wheel_ships_every_addon(wheel, repo, addons):
    for addon in addons:
        prefix = f"odoo/addons/{addon}/"
        assert prefix + "__manifest__.py" in wheel
        assert prefix + "__init__.py" in wheel
        files = [f for f in _addon_files(repo, addon) if not f.endswith(".pyc")]
        missing = [f for f in files if prefix + f not in wheel]
        assert not missing, f"{addon}: files missing from the wheel: {missing}"
        data = [f for f in files if f.endswith(DATA_SUFFIXES)]
        for rel in data:
            assert prefix + rel in wheel


def test_wheel_only_ships_addons(wheel, addons):
    allowed = tuple(f"odoo/addons/{a}/" for a in addons)
    stray = [n for n in wheel if not n.startswith(allowed) and ".dist-info/" not in n]
    assert not stray, f"unexpected files in the wheel: {stray}"


@pytest.mark.parametrize("addon", addon_names())
def test_manifest_files_exist(repo, addon):
    manifest = read_manifest(addon)
    for key in ("name", "version", "license", "depends"):
        assert key in manifest, f"{addon}: manifest has no '{key}'"
    assert manifest["version"].startswith("18.0."), manifest["version"]
    missing = [
        f"{key}: {rel}"
        for key in ("data", "demo")
        for rel in manifest.get(key, [])
        if not (repo / addon / rel).is_file()
    ]
    assert not missing, f"{addon}: files listed in the manifest are missing: {missing}"


def test_addon_readmes_are_generated_from_fragments(repo, addons):
    """Each addon documents itself in readme/*.md (OCA layout); its README.rst
    is what scripts/gen_addon_readme.py makes of them, not edited by hand."""
    required = ("readme/DESCRIPTION.md", "readme/USAGE.md", "README.rst")
    missing = [
        f"{addon}/{rel}"
        for addon in addons
        for rel in required
        if not (repo / addon / rel).is_file()
    ]
    assert not missing, f"addon documentation missing: {missing}"
    proc = subprocess.run(
        [
            sys.executable,
            repo / "scripts" / "gen_addon_readme.py",
            "--check",
            "--repo",
            repo,
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, (
        "README.rst out of date with readme/ (run scripts/gen_addon_readme.py):\n"
        + proc.stdout
        + proc.stderr
    )


def test_odoo_is_importable_from_the_venv(venv_python, odoo_src, run):
    proc = run(
        [
            venv_python,
            "-c",
            "import odoo, odoo.release as r; "
            "assert r.version_info[:2] == (18, 0), r.version_info; "
            "print(odoo.__file__)",
        ]
    )
    assert proc.stdout.strip().startswith(str(odoo_src.resolve())), proc.stdout
