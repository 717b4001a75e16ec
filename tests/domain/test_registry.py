"""The rule registry: each rule's id, family and source declared once, tables derived from it."""

from __future__ import annotations

import pytest

from tendon_pipeline.domain import registry, rules
from tendon_pipeline.domain.models import Alert


def _noop(facts, thresholds) -> list[Alert]:
    return []


def test_every_declared_rule_has_a_family_and_a_source():
    declared = list(registry.all_rules())
    assert len(declared) >= 12
    for spec in declared:
        assert spec.family in registry.FAMILIES
        assert spec.source.strip(), spec.id
        assert spec.doc.strip(), f"{spec.id} has no docstring"


@pytest.mark.parametrize("source", ["", "   "])
def test_a_rule_without_a_source_is_refused(source):
    with pytest.raises(ValueError, match="no source"):
        registry.rule("test_rule_without_source", family="load", source=source)(_noop)
    assert "test_rule_without_source" not in registry.rule_ids()


def test_a_rule_id_declared_twice_is_refused():
    with pytest.raises(ValueError, match="declared twice"):
        registry.rule(rules.SESSION_SPIKE, family="load", source="Someone 2020")(_noop)


def test_tables_and_public_names_follow_the_declarations():
    declared = {spec.id: spec for spec in registry.all_rules()}
    assert set(rules.RULES) == set(declared)
    for spec in declared.values():
        assert getattr(rules, spec.name) is spec
        assert spec.name in rules.__all__
    assert {i for i, s in declared.items() if s.family == "pain"} == rules.PAIN_RULES
    assert {i for i, s in declared.items() if s.family == "load"} == rules.LOAD_RULES
    assert {i for i, s in declared.items() if s.family == "program"} == rules.PROGRAM_RULES
    assert registry.sources() == {i: s.source for i, s in declared.items()}


def test_an_unknown_rule_id_names_the_known_ones():
    with pytest.raises(KeyError, match="session_spike"):
        registry.source_of("no_such_rule")
