"""Packaging of this repository's Odoo addons.

Every top-level folder holding a ``__manifest__.py`` is an Odoo addon and is
installed as the Python package ``odoo.addons.<name>`` (with all of its
sub-packages and all of its non-Python files). The ``odoo`` and ``odoo.addons``
namespaces belong to Odoo itself: no ``odoo/__init__.py`` nor
``odoo/addons/__init__.py`` is shipped.

    pip install .       # regular (wheel) install
    pip install -e .    # editable install, for development
"""

import os

from setuptools import setup

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP_DIRS = {"__pycache__", ".git", "node_modules"}
SKIP_SUFFIXES = (".py", ".pyc", ".pyo")


def _addons():
    return sorted(
        entry
        for entry in os.listdir(HERE)
        if not entry.startswith(".")
        and os.path.isfile(os.path.join(HERE, entry, "__manifest__.py"))
    )


def _walk(addon):
    root = os.path.join(HERE, addon)
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d for d in dirnames if d not in SKIP_DIRS and not d.startswith(".")
        )
        yield os.path.relpath(dirpath, root), sorted(filenames)


def _layout():
    """Return (packages, package_dir, package_data) for every addon."""
    packages, package_dir, package_data = [], {}, {}
    for addon in _addons():
        pkg = f"odoo.addons.{addon}"
        package_dir[pkg] = addon
        # Python packages: the addon itself and each folder with an __init__.py
        # whose parents are packages too.
        pkg_dirs = {".": pkg}
        for rel, files in _walk(addon):
            if rel == ".":
                packages.append(pkg)
                continue
            parent = os.path.dirname(rel) or "."
            if "__init__.py" in files and parent in pkg_dirs:
                pkg_dirs[rel] = pkg_dirs[parent] + "." + os.path.basename(rel)
                packages.append(pkg_dirs[rel])
        # Data: every non-Python file, attached to its deepest enclosing package.
        for rel, files in _walk(addon):
            owner = rel
            while owner not in pkg_dirs:
                owner = os.path.dirname(owner) or "."
            for name in files:
                if name.endswith(SKIP_SUFFIXES) and not (
                    # Odoo's migration scripts: .py files in plain folders
                    name.endswith(".py") and owner != rel
                ):
                    continue
                path = os.path.join(rel, name)
                path = os.path.relpath(path, owner) if owner != "." else path
                package_data.setdefault(pkg_dirs[owner], []).append(
                    path.replace(os.sep, "/")
                )
    return packages, package_dir, package_data


PACKAGES, PACKAGE_DIR, PACKAGE_DATA = _layout()

setup(
    name="odoo-billing-automation",
    version="18.0.1.0.0",
    description="Odoo 18.0 addons for billing automation (invoice_manager, ...)",
    long_description=open(os.path.join(HERE, "README.md"), encoding="utf-8").read()
    if os.path.isfile(os.path.join(HERE, "README.md"))
    else "",
    long_description_content_type="text/markdown",
    author="Billing Automation",
    license="LGPL-3.0-only",
    python_requires=">=3.10",
    packages=PACKAGES,
    package_dir=PACKAGE_DIR,
    package_data=PACKAGE_DATA,
    include_package_data=False,
    install_requires=["num2words", "xlsxwriter"],
    zip_safe=False,
    classifiers=[
        "Framework :: Odoo",
        "Framework :: Odoo :: 18.0",
        "Programming Language :: Python :: 3",
    ],
)
