"""The rule registry: each rule's id, family and source declared once, on the rule itself.

A rule is a function over one evaluation's ``HistoryFacts``::

    @rule("session_spike", family="load", source="Frandsen et al., Br J Sports Med 2025 (...)")
    def session_spike(facts: HistoryFacts, thresholds: RuleThresholds) -> list[Alert]:
        ...

The decorator returns a ``RegisteredRule``: called as ``session_spike(history, thresholds,
as_of)`` it is the public rule; ``.check(facts, thresholds)`` is the form ``evaluate`` uses;
``.id``, ``.family`` and ``.source`` are its declaration. The tables the rest of the code needs
(all rules, the rules of a family, each rule's source) are read from here, never typed out
again. A rule with ``context=True`` runs after the others and is given their alerts (the
acute:chronic ratio, which is context for them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal, Protocol

from .aggregate import HistoryFacts
from .models import Alert, AthleteHistory
from .thresholds import RuleThresholds

Family = Literal["load", "context", "program", "pain"]
FAMILIES: tuple[Family, ...] = ("load", "context", "program", "pain")


class FactsCheck(Protocol):
    def __call__(self, facts: HistoryFacts, thresholds: RuleThresholds, /) -> list[Alert]: ...


class ContextCheck(Protocol):
    def __call__(
        self, facts: HistoryFacts, thresholds: RuleThresholds, others: Sequence[Alert], /
    ) -> list[Alert]: ...


@dataclass(frozen=True)
class RegisteredRule:
    """One declared rule: its id, family, source and check."""

    id: str
    family: Family
    source: str
    name: str  # the public name in ``domain.rules``
    doc: str
    facts_check: FactsCheck | None = None
    context_check: ContextCheck | None = None

    @property
    def is_context(self) -> bool:
        return self.context_check is not None

    def check(
        self, facts: HistoryFacts, thresholds: RuleThresholds, others: Sequence[Alert] = ()
    ) -> list[Alert]:
        """The rule over one evaluation's facts (context rules also see the others' alerts)."""
        if self.context_check is not None:
            return self.context_check(facts, thresholds, others)
        assert self.facts_check is not None
        return self.facts_check(facts, thresholds)

    def __call__(self, history: AthleteHistory, thresholds: RuleThresholds, as_of: date) -> list[Alert]:
        """The public form: this rule alone over ``history`` as it stood at ``as_of``."""
        facts = HistoryFacts(history, as_of)
        others: list[Alert] = []
        if self.is_context:
            others = [a for spec in non_context_rules() for a in spec.check(facts, thresholds)]
        return self.check(facts, thresholds, others)


_REGISTRY: dict[str, RegisteredRule] = {}


def _declare(
    rule_id: str, family: Family, source: str, fn: Callable[..., list[Alert]], context: bool
) -> RegisteredRule:
    if not rule_id or not rule_id.strip():
        raise ValueError(f"rule {fn.__name__!r} has no id")
    if not source or not source.strip():
        raise ValueError(
            f"rule {rule_id!r} has no source: every alert must cite what its threshold rests on "
            f"(see shared/reference/RULES.md)"
        )
    if family not in FAMILIES:
        raise ValueError(f"rule {rule_id!r}: family {family!r} is not one of {', '.join(FAMILIES)}")
    if rule_id in _REGISTRY:
        raise ValueError(f"rule {rule_id!r} is declared twice")
    name = fn.__name__.lstrip("_")
    spec = RegisteredRule(
        id=rule_id, family=family, source=source.strip(), name=name, doc=fn.__doc__ or "",
        facts_check=None if context else fn, context_check=fn if context else None,
    )
    _REGISTRY[rule_id] = spec
    return spec


def rule(
    rule_id: str, *, family: Family, source: str, context: bool = False
) -> Callable[[Callable[..., list[Alert]]], RegisteredRule]:
    """Declare a rule: its id, family (load, context, program, pain) and source citation."""

    def register(fn: Callable[..., list[Alert]]) -> RegisteredRule:
        return _declare(rule_id, family, source, fn, context)

    return register


def all_rules() -> Iterator[RegisteredRule]:
    """Every declared rule, in declaration order."""
    return iter(list(_REGISTRY.values()))


def non_context_rules() -> list[RegisteredRule]:
    return [spec for spec in _REGISTRY.values() if not spec.is_context]


def context_rules() -> list[RegisteredRule]:
    return [spec for spec in _REGISTRY.values() if spec.is_context]


def rule_ids(*families: Family) -> frozenset[str]:
    """Ids of the rules in these families (all rules when none is given)."""
    return frozenset(s.id for s in _REGISTRY.values() if not families or s.family in families)


def get(rule_id: str) -> RegisteredRule:
    try:
        return _REGISTRY[rule_id]
    except KeyError:
        raise KeyError(f"no rule {rule_id!r} is declared (known: {', '.join(sorted(_REGISTRY))})") from None


def source_of(rule_id: str) -> str:
    return get(rule_id).source


def sources() -> dict[str, str]:
    """Each rule's citation by rule id."""
    return {rule_id: spec.source for rule_id, spec in _REGISTRY.items()}


__all__ = [
    "FAMILIES",
    "Family",
    "RegisteredRule",
    "all_rules",
    "context_rules",
    "get",
    "non_context_rules",
    "rule",
    "rule_ids",
    "source_of",
    "sources",
]
