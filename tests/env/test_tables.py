"""The program table binds each engine's rules by name and refuses a gap or a stray name."""

import pytest

from hackmatrix.env.constants import PROGRAM_NAMES, in_program_order
from hackmatrix.env.programs import RULES as JAX_RULES
from hackmatrix.reference.programs import RULES as REFERENCE_RULES


def test_rules_come_back_in_table_order():
    rules = {name: i for i, name in enumerate(reversed(PROGRAM_NAMES))}
    assert in_program_order(rules) == tuple(reversed(range(len(PROGRAM_NAMES))))


def test_a_program_without_a_rule_is_refused_by_name():
    rules = {name: None for name in PROGRAM_NAMES if name != "HACK"}
    with pytest.raises(ValueError, match=r"missing \['HACK'\]"):
        in_program_order(rules)


def test_a_rule_for_no_program_is_refused_by_name():
    rules = {**{name: None for name in PROGRAM_NAMES}, "NUKE": None}
    with pytest.raises(ValueError, match=r"unknown \['NUKE'\]"):
        in_program_order(rules)


def test_both_engines_bind_the_same_programs():
    assert sorted(JAX_RULES) == sorted(REFERENCE_RULES)
