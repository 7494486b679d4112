"""The README runs: every ```python block of README.md, in order, against the embedded demo grid.

Blocks of one file share a namespace and run in one subprocess (``jsadmin.connect()`` without a URL
starts the live demo grid), with a private ``JSADMIN_JOURNAL`` and working directory, under a
timeout. A block preceded by ``<!-- not-run: reason -->`` is skipped, visibly in the README.
Tracebacks name the README line of the failing statement.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md"]
FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w+-]*)[ \t]*$")
NOT_RUN = re.compile(r"<!--\s*not-run:\s*(?P<reason>\S.*?)\s*-->")
TIMEOUT = 240

DRIVER = r"""
import json, sys
blocks = json.load(open(sys.argv[1], encoding="utf-8"))
ns = {"__name__": "__readme__"}
for block in blocks:
    code = "\n" * (block["line"] - 1) + block["code"]   # tracebacks show the README's line numbers
    print(f"--- block at {block['file']}:{block['line']}", flush=True)
    exec(compile(code, block["file"], "exec"), ns)
print("--- all blocks ran", flush=True)
"""


def python_blocks(path: Path) -> tuple[list[dict[str, object]], list[tuple[int, str]]]:
    """``([{file, line, code}], [(line, reason) skipped])`` of the ```python blocks of ``path``.

    ``line`` is the README line of the block's first code line; indented blocks (inside a list
    item) are dedented.
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[dict[str, object]] = []
    skipped: list[tuple[int, str]] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m or not m["lang"]:
            i += 1
            continue
        start = i + 1
        j = start
        while j < len(lines) and lines[j].strip() != "```":
            j += 1
        if m["lang"] == "python":
            before = next((lines[k] for k in range(i - 1, -1, -1) if lines[k].strip()), "")
            reason = NOT_RUN.search(before)
            if reason:
                skipped.append((start + 1, reason["reason"]))
            else:
                code = textwrap.dedent("\n".join(lines[start:j]))
                blocks.append({"file": path.name, "line": start + 1, "code": code})
        i = j + 1
    return blocks, skipped


def test_block_extraction_keeps_lines_and_skips_marked_blocks(tmp_path: Path) -> None:
    doc = tmp_path / "X.md"
    doc.write_text(
        "intro\n```python\nx = 1\n```\n\n<!-- not-run: needs a real grid -->\n```python\nboom()\n```\n"
        "* item\n  ```python\n  y = x + 1\n  ```\n```bash\nls\n```\n",
        encoding="utf-8",
    )
    blocks, skipped = python_blocks(doc)
    assert [(b["line"], b["code"]) for b in blocks] == [(3, "x = 1"), (12, "y = x + 1")]
    assert skipped == [(8, "needs a real grid")]


@pytest.mark.version_independent  # documentation, like the notebooks: checked once, in the default leg
@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_python_examples_run_against_the_demo_grid(doc: Path, tmp_path: Path) -> None:
    blocks, skipped = python_blocks(doc)
    assert blocks, f"no ```python block in {doc.name}"
    (tmp_path / "blocks.json").write_text(json.dumps(blocks), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "JSADMIN_URL"}
    env.update(JSADMIN_JOURNAL=str(tmp_path / "journal"), MPLBACKEND="Agg", HOME=str(tmp_path))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, str(tmp_path / "blocks.json")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )
    ran = [line for line in proc.stdout.splitlines() if line.startswith("--- block at")]
    assert proc.returncode == 0 and "--- all blocks ran" in proc.stdout, (
        f"{doc.name}: {ran[-1] if ran else 'no block'} failed:\n{proc.stderr[-4000:]}"
    )
    assert len(ran) == len(blocks)
    for line, reason in skipped:
        print(f"{doc.name}:{line} not run: {reason}")
