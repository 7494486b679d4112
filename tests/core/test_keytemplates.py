"""Key templates: one declaration gives a family's SCAN globs, regex, typed key columns, documented
patterns and key builders; these check that the generated parts agree with each other."""

from __future__ import annotations

from fnmatch import fnmatchcase

import pytest

from jsadmin import keys
from jsadmin.catalog import FAMILY_LIST, Family, classify
from jsadmin.keys import KeyTemplate

pytestmark = pytest.mark.version_independent  # key templates built and parsed in memory: no server

SAMPLE = {"int": "7", "num": "7", "epoch": "1539600000", "str": "io", "rest": "w:1"}
"""A value of each field type; ``rest`` holds a colon on purpose."""


def _templated() -> list[tuple[Family, KeyTemplate]]:
    return [(fam, t) for fam in FAMILY_LIST for t in fam.templates]


def test_every_builtin_family_is_declared_by_templates() -> None:
    assert [f.name for f in FAMILY_LIST if not f.templates] == []


@pytest.mark.parametrize(("fam", "template"), _templated(), ids=lambda v: getattr(v, "name", None) or v.text)
def test_a_built_key_is_scanned_classified_and_parsed_back(fam: Family, template: KeyTemplate) -> None:
    values = {col: SAMPLE[typ] for _, col, typ in template.fields}
    key = template.build(**values)
    assert classify(key) == fam.name
    assert fam.parse_key(key) == {**template.fixed, **values}
    assert key in fam.fixed_keys or any(fnmatchcase(key, g) for g in fam.globs)
    assert set(template.columns) <= set(fam.key_columns)


def test_generated_globs_keep_one_scan_per_prefix() -> None:
    by_name = {f.name: f for f in FAMILY_LIST}
    assert by_name["command_queues"].match == ("queues:commands:queue:*", "commands:queue:*")
    assert by_name["worker_queues"].match == ("queues:workers:work:*", "queues:system")
    assert by_name["worker_jobs"].match == ("workers:jobs*",)  # three shapes, one SCAN
    assert by_name["eco_incr"].match == ("eco:incr*",)
    assert by_name["jobs_last"].match == ("jobs:last",) and by_name["jobs_last"].globs == ()


def test_template_parts() -> None:
    t = keys.COMMAND_QUEUE
    assert t.pattern == "queues:commands:queue:<gid>:<nid|role>"
    assert t.columns == {"form": "category", "key_gid": "Int64", "target": "string"}
    assert t.parse("queues:commands:queue:1:a:b") == {"form": "real", "key_gid": "1", "target": "a:b"}
    assert t.parse("commands:queue:1:5") is None
    assert keys.LOGS_INCR_LEGACY.columns == {"gid": "Int64", "nid": "Int64", "epoch": "datetime"}
    assert keys.ECO_INCR_EPOCH.pattern == ""  # not documented
    assert KeyTemplate("a:{x:int}").parse("a:x") is None and KeyTemplate("a.{x}").parse("abc") is None  # literal dot


def test_a_field_type_must_be_known() -> None:
    with pytest.raises(ValueError, match="unknown field type 'float'"):
        KeyTemplate("x:{v:float}")


def test_fixed_columns_take_the_dtype_of_the_same_field_elsewhere() -> None:
    fam = Family.keyed("t_fixed", "list", (KeyTemplate("t:q:{key_queue:rest}"), KeyTemplate("t:sys", {"key_queue": "io"})),
                       "current", "test", "text", {"v": "string"})
    assert fam.key_columns == {"key_queue": "string"}
    assert fam.parse_key("t:sys") == {"key_queue": "io"} and fam.parse_key("t:q:a") == {"key_queue": "a"}
    assert fam.regex.fullmatch("t:sys") and not fam.regex.fullmatch("t:q:")
