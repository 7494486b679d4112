"""The domain module: states, the finality ranking, jumpscript identity and the builders agree with
every place that used to keep its own copy."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from jsadmin.analytics.jobs import TOP_RANK, copy_rank, jumpscript_ids
from jsadmin.demogrid._grid_scripts import SOURCES, jumpscript_dict
from jsadmin.demogrid.scripts import load_demo_jumpscripts
from jsadmin.domain import (
    Job,
    JobState,
    Jumpscript,
    copy_rank_of,
    jumpscript_id,
    split_jumpscript,
    state_tier,
)
from jsadmin.domain import jumpscript_ids as domain_jumpscript_ids
from jsadmin.writes.jobs import prepare_job
from jsadmin.writes.jumpscripts import prepare_jumpscript

STATES = [None, "", " ", "SCHEDULED", "STARTED", "OK", "ERROR", "TIMEOUT", "NOWORK", "killed"]


def test_nowork_is_final_and_every_spec_state_is_final_or_in_flight() -> None:
    assert JobState.NOWORK in JobState.FINAL
    assert set(JobState.FINAL) | set(JobState.IN_FLIGHT) == set(JobState.ALL)
    assert not set(JobState.FINAL) & set(JobState.IN_FLIGHT)
    assert set(JobState.RETRYABLE) == set(JobState.FINAL) - {JobState.OK}


@pytest.mark.parametrize("categorical", [False, True])
def test_column_rank_is_the_scalar_rank(categorical: bool) -> None:
    state = pd.Series(STATES * 2, dtype="category" if categorical else object)
    stop = pd.Series([pd.NaT] * len(STATES) + [pd.Timestamp(1, unit="s", tz="UTC")] * len(STATES))
    expected = [copy_rank_of(s, has_stop=i >= len(STATES)) for i, s in enumerate(state.astype(object))]
    assert copy_rank(state, stop).tolist() == expected
    assert max(expected) == TOP_RANK
    assert [state_tier(s) for s in STATES] == [0, 0, 0, 0, 1, 2, 2, 2, 2, 2]


def test_jumpscript_id_scalar_and_column_agree() -> None:
    cats = ["backup", "jumpscript", "", None, "monitor", "jumpscript", "x"]
    cmds = ["backup_dirs", "backup/backup_dirs", "x", "", "", "nocmd", None]
    frame = jumpscript_ids(pd.DataFrame({"category": cats, "cmd": cmds})).tolist()
    assert frame == [jumpscript_id(c, m) for c, m in zip(cats, cmds, strict=True)]
    assert split_jumpscript("a__b") == ("a", "b") == split_jumpscript("a/b")
    with pytest.raises(ValueError, match="organization"):
        split_jumpscript("ab")


def test_jumpscript_ids_of_equal_but_different_numbers_are_not_shared() -> None:
    """1, 1.0 and True are one dict key: a memo keyed on them named all three after the first seen,
    so a job's jumpscript depended on the jobs decoded in the same batch before it."""
    cats: list[object] = [1, True, 1.0, "jumpscale", 1]
    cmds = ["x", "x", "x", "x", "x"]
    assert domain_jumpscript_ids(cats, cmds) == [jumpscript_id(c, m) for c, m in zip(cats, cmds, strict=True)]
    assert domain_jumpscript_ids(cats, cmds) == ["1__x", "True__x", "1.0__x", "jumpscale__x", "1__x"]

def test_writes_serialise_the_domain_job() -> None:
    prepared = prepare_job(1, nid=5, category="jumpscale", cmd="echo", args={"a": 1}, queue="io", tags="t")
    written = json.loads(prepared.text(7))
    assert tuple(written) == Job.KEYS
    built = Job.scheduled(id=7, guid=prepared.guid, gid=1, nid=5, category="jumpscale", cmd="echo",
                          args={"a": 1}, queue="io", tags="t", time_create=written["timeCreate"])
    assert built == written
    role = json.loads(prepare_job(1, role="node", category="c", cmd="x").text(1))
    assert role["roles"] == Job.scheduled(id=1, guid="", gid=1, nid=None, role="node", category="c", cmd="x",
                                          time_create=0)["roles"] == ["node"]


def test_every_jumpscript_builder_gives_the_20_keys() -> None:
    written = prepare_jumpscript("o", "n", "descr = 'd'\ndef action():\n    pass\n", roles=["*", "node"]).fields
    demo = load_demo_jumpscripts()[0]
    live = jumpscript_dict("echo", SOURCES["echo"], gid=1)
    for js in (written, demo, live):
        assert tuple(js) == Jumpscript.KEYS and js["id"] is None
    assert written["roles"] == ["node"]
