"""The severity ladders are declared once (``SEVERITY_LADDERS``): configured values feed the rules'
bands and the evidence, and a ladder whose lines do not rise is refused naming both settings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tendon_pipeline.domain.models import Severity
from tendon_pipeline.domain.thresholds import ORDERED_THRESHOLDS, SEVERITY_LADDERS, RuleThresholds


def test_a_ladder_follows_the_configuration():
    th = RuleThresholds(volume_increase_caution=0.15, volume_increase_warning=0.40)
    assert th.ladder("volume_increase") == [(0.15, Severity.CAUTION), (0.40, Severity.WARNING)]
    assert th.ladder("spike") == [(th.spike_caution, Severity.CAUTION), (th.spike_high, Severity.HIGH)]


@pytest.mark.parametrize("name", sorted(SEVERITY_LADDERS))
def test_every_ladder_must_rise(name):
    (low, _), (high, _) = SEVERITY_LADDERS[name]
    assert (low, high) in ORDERED_THRESHOLDS
    value = getattr(RuleThresholds(), high)
    with pytest.raises(ValidationError, match=f"{low} .* must be below {high}"):
        RuleThresholds(**{low: value, high: value})
