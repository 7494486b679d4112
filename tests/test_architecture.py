"""The layers of docs/ARCHITECTURE.md, checked on the source: no import cycles, display stays optional.

The module-level import graph of ``jsadmin/`` is built with :mod:`ast` (imports under
``if TYPE_CHECKING:`` are annotations only and do not count). It must be acyclic; the data layers
must not import ``jsadmin.display``; and an import of a jsadmin module inside a function is allowed
only where it keeps an optional layer (display, the demo simulator) out of ``import jsadmin``:
each one is listed in ``LAZY`` with its reason, so a new import hidden in a function to dodge a
cycle fails here.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import jsadmin

pytestmark = pytest.mark.version_independent  # the import graph of jsadmin's sources: no server

ROOT = Path(jsadmin.__file__).parent
PACKAGE = "jsadmin"

SHELL = ("jsadmin.display", "jsadmin.metrics", "jsadmin.dashboard", "jsadmin.cli", "jsadmin.cli_text", "jsadmin.lab")
"""Display, services and CLI: may import display. Everything else is a data layer and must not."""

LAZY: dict[tuple[str, str], str] = {
    ("jsadmin.admin", "jsadmin.display.html"): "Admin._repr_html_: display is the optional `display` extra",
    ("jsadmin.admin", "jsadmin.demogrid"): "demo(): the demo simulator loads only when a demo grid starts",
    ("jsadmin.admin", "jsadmin.demogrid.grid"): "demo(live=True): the live simulated grid, on use",
    ("jsadmin.lab", "jsadmin.demogrid"): "jsadmin lab: the demo simulator loads when its grid starts",
    ("jsadmin.lab", "jsadmin.demogrid.grid"): "jsadmin lab: the live simulated grid, on use",
    ("jsadmin.display.panels.health", "jsadmin.display.plots"): "plots import matplotlib at their top",
}
"""Function-level imports of jsadmin modules that are allowed, with the reason for each."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _owner(name: str) -> str:
    """The jsadmin module an imported dotted name lives in (``jsadmin.x.f`` -> ``jsadmin.x``)."""
    while name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> set[str]:
    if isinstance(node, ast.Import):
        return {_owner(a.name) for a in node.names if a.name.split(".")[0] == PACKAGE}
    base = node.module or ""
    if node.level:
        package = module.split(".") if MODULES[module].name == "__init__.py" else module.split(".")[:-1]
        package = package[: len(package) - node.level + 1]
        base = ".".join([*package, base] if base else package)
    if base.split(".")[0] != PACKAGE:
        return set()
    return {_owner(f"{base}.{a.name}") for a in node.names}


def _is_type_checking(node: ast.If) -> bool:
    return "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(module: str) -> tuple[set[str], set[str]]:
    """``(module-level targets, function-level targets)`` of one module (TYPE_CHECKING skipped)."""
    top: set[str] = set()
    lazy: set[str] = set()

    def walk(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.orelse:
                    walk_one(sub, in_function)
                continue
            walk_one(child, in_function)

    def walk_one(child: ast.AST, in_function: bool) -> None:
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            found = _targets(module, child) - {module}
            (lazy if in_function else top).update(found)
        else:
            walk(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    walk(ast.parse(MODULES[module].read_text(encoding="utf-8")), False)
    return top, lazy


GRAPH = {m: _imports(m) for m in MODULES}


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def _in(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def test_graph_sees_the_package() -> None:
    # the control: the walk finds the modules and the edges everyone knows are there
    assert {"jsadmin", "jsadmin.admin", "jsadmin.reader", "jsadmin.display.html"} <= set(MODULES)
    assert "jsadmin.catalog" in GRAPH["jsadmin.reader"][0]
    assert "jsadmin.display.html" in GRAPH["jsadmin.admin"][1]


def test_module_level_imports_have_no_cycle() -> None:
    assert _cycles({m: top for m, (top, _) in GRAPH.items()}) == []


def test_imports_inside_functions_do_not_hide_a_cycle() -> None:
    # every function-level import hoisted to the top still gives an acyclic graph
    assert _cycles({m: top | lazy for m, (top, lazy) in GRAPH.items()}) == []


def test_function_level_imports_only_for_optional_layers() -> None:
    found = {(m, t) for m, (_, lazy) in GRAPH.items() for t in lazy}
    assert sorted(found - set(LAZY)) == [], "import it at the top, or add it to LAZY with the optional layer it keeps out"
    assert sorted(set(LAZY) - found) == [], "stale LAZY entries"


def test_data_layers_never_import_display() -> None:
    offenders = sorted(
        (m, t)
        for m, (top, _) in GRAPH.items()
        if not _in(m, SHELL)
        for t in top
        if _in(t, ("jsadmin.display",))
    )
    assert offenders == []


def test_no_lower_module_imports_the_package_root() -> None:
    # `import jsadmin` inside jsadmin is how a cycle with admin.py hides; only the root re-exports
    assert sorted(m for m, (top, lazy) in GRAPH.items() if PACKAGE in top | lazy) == []


def test_public_functions_do_not_shadow_modules() -> None:
    # jsadmin.fleet / jsadmin.diff are functions: their modules are jsadmin.fleets / jsadmin.diffs
    shadowed = sorted(
        info.name
        for info in pkgutil.iter_modules([str(ROOT)])
        if getattr(jsadmin, info.name, None) is not None and not inspect.ismodule(getattr(jsadmin, info.name))
    )
    assert shadowed == []
    assert inspect.ismodule(importlib.import_module("jsadmin.fleets"))
    assert inspect.ismodule(importlib.import_module("jsadmin.diffs"))
    assert callable(jsadmin.fleet) and callable(jsadmin.diff) and callable(jsadmin.open_snapshot)


RESULT_KEYS = {"family", "problems", "notes", "truncated", "moved", "journal_id", "not_found", "note"}
"""What loads and writes used to pass in ``DataFrame.attrs``; they travel as typed values now."""


ANALYTICS_KEYS = {
    "excluded", "legacy", "clamped", "metric", "columns", "freq",  # latency
    "copies", "jobs", "duplicates", "no_guid",  # one_row_per_job, finished_jobs
    "unique_guids", "family", "history",  # recorded history tables
    "time", "oldest_unknown", "stale_after", "leftover_after",  # queue depths, grid health
    "jumpscript", "gid",  # probe
}
"""What the analytics used to annotate their frames with in ``DataFrame.attrs``; typed ``*Info`` now."""


def _dict_keys(node: ast.AST) -> list[str]:
    return [str(k.value) for k in node.keys if isinstance(k, ast.Constant)] if isinstance(node, ast.Dict) else []


def _attrs_uses(tree: ast.AST, names: set[str] = RESULT_KEYS) -> list[tuple[int, str]]:
    """``(line, key)`` of every ``x.attrs[key]``, ``x.attrs.get/pop/setdefault(key)``,
    ``x.attrs.update(key=...)``, ``x.attrs.update({key: ...})`` and ``x.attrs = {key: ...}``
    naming one of ``names`` (:data:`RESULT_KEYS` unless told)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) and node.value.attr == "attrs"
                and isinstance(node.slice, ast.Constant) and node.slice.value in names):
            found.append((node.lineno, str(node.slice.value)))
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "attrs"):
            keys = [a.value for a in node.args[:1] if isinstance(a, ast.Constant)]
            keys += [k.arg for k in node.keywords if k.arg]
            keys += [k for a in node.args[:1] for k in _dict_keys(a)]
            found += [(node.lineno, str(k)) for k in keys if k in names]
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Attribute) and t.attr == "attrs" for t in node.targets):
            found += [(node.lineno, k) for k in _dict_keys(node.value) if k in names]
    return found


def test_load_and_write_results_never_travel_in_attrs() -> None:
    """Only ``loadinfo.with_attrs`` (the one-release compatibility mirror of ``load``) touches the
    load metadata keys of ``attrs``; no module reads them and no write result uses them."""
    offenders = {
        module: uses
        for module, path in MODULES.items()
        if module != "jsadmin.loadinfo" and (uses := _attrs_uses(ast.parse(path.read_text())))
    }
    assert offenders == {}
    sample = ast.parse('df.attrs["problems"]; df.attrs.get("truncated"); f.attrs.update(journal_id=1)')
    assert [k for _, k in _attrs_uses(sample)] == ["problems", "truncated", "journal_id"]  # the check bites


def test_analytics_annotations_never_travel_in_attrs() -> None:
    """Only ``analytics.info.with_attrs`` (the one-release mirror of the plain analytics) fills the
    analytics keys of ``attrs`` (excluded, duplicates, unique_guids, stale_after, ...); no module
    reads them: callers take the typed ``*Info`` of the ``*_with_info`` functions."""
    mirrors = {"jsadmin.analytics.info": set(), "jsadmin.loadinfo": RESULT_KEYS}  # module: keys it may write
    offenders = {
        module: uses
        for module, path in MODULES.items()
        if module != "jsadmin.analytics.info"
        and (uses := [u for u in _attrs_uses(ast.parse(path.read_text()), ANALYTICS_KEYS)
                      if u[1] not in mirrors.get(module, set())])
    }
    assert offenders == {}
    sample = ast.parse('df.attrs.get("unique_guids"); df.attrs["excluded"] = {}; df.attrs.update({"time": 1});'
                       ' df.attrs = {"duplicates": 0}; h.attrs.get("stale_after", 120); df.attrs.update(gid=1)')
    assert sorted(k for _, k in _attrs_uses(sample, ANALYTICS_KEYS)) == [
        "duplicates", "excluded", "gid", "stale_after", "time", "unique_guids"]  # the check bites
