"""The processing engine's rules, read off the addons' code: no thread, and
transactions committed (or rolled back) only at the executor's entry points.

Tests may start threads (to play Odoo's cron worker in a tour); the addons'
own code may not."""

import ast

import pytest

from conftest import REPO, addon_names

THREAD_MODULES = {"threading", "concurrent.futures", "multiprocessing", "_thread"}
EXECUTOR = "invoice_manager/models/billing_run_executor.py"
# The one method that commits, and the entry points that call it: a scheduler
# call, a script (_process_now), the scheduled scenarios' cron.
COMMIT = {(EXECUTOR, "_commit")}
ROLLBACK = {(EXECUTOR, "_in_transaction")}
COMMIT_CALLERS = {
    (EXECUTOR, "_process_now"),
    (EXECUTOR, "_in_transaction"),
    (EXECUTOR, "_process_pending"),
    (EXECUTOR, "_write_processing_state"),
    (EXECUTOR, "_stop_over_time_limit"),
    ("invoice_manager/models/billing_scenario.py", "_cron_invoice_scheduled_scenarios"),
}


def _sources():
    for addon in addon_names():
        for path in sorted((REPO / addon).rglob("*.py")):
            relative = path.relative_to(REPO)
            if "tests" in relative.parts:
                continue
            yield relative.as_posix(), ast.parse(path.read_text(), str(relative))


def _calls(tree, attribute):
    """(function, call) of every call ``<something>.<attribute>(...)``, the
    function being the innermost one around it (``<module>`` at module level)."""

    def visit(node, function):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            function = node.name
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == attribute
        ):
            yield function, node
        for child in ast.iter_child_nodes(node):
            yield from visit(child, function)

    yield from visit(tree, "<module>")


def _call_sites(attribute, only_on_cursor=False):
    sites = set()
    for path, tree in _sources():
        for function, call in _calls(tree, attribute):
            target = call.func.value
            on_cursor = (
                isinstance(target, ast.Attribute) and target.attr in ("cr", "_cr")
            ) or (isinstance(target, ast.Name) and target.id in ("cr", "_cr"))
            if only_on_cursor and not on_cursor:
                continue
            sites.add((path, function))
    return sites


@pytest.mark.parametrize("addon", addon_names())
def test_no_thread_in_the_addons(addon):
    imported = []
    for path, tree in _sources():
        if not path.startswith(f"{addon}/"):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            imported += [
                (path, name)
                for name in names
                if name in THREAD_MODULES or name.split(".")[0] in THREAD_MODULES
            ]
    assert not imported, f"threads are Odoo's workers' business: {imported}"


def test_only_the_executor_commits_and_rolls_back():
    assert _call_sites("commit", only_on_cursor=True) == COMMIT
    assert _call_sites("rollback", only_on_cursor=True) == ROLLBACK


def test_commits_happen_at_the_executors_entry_points_only():
    assert _call_sites("_commit") == COMMIT_CALLERS


def test_no_second_cursor_in_the_addons():
    """A cursor of its own (``registry.cursor()``) is a second transaction in
    the process: the executor's entry points are the only transactions."""
    assert _call_sites("cursor") == set()
