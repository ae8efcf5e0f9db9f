"""Carrier choice, given / when / then: score = 0.7 × on-time + 0.3 × cheapness
(cost normalised over the table), ties to the first name."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from domain.shipment.carriers import CARRIERS, Carrier, choose, scores


def test_the_default_table_picks_the_best_weighted_carrier():
    # USPS: 0.7 × 0.90 + 0.3 × 1 = 0.93 beats DHL 0.801, UPS 0.772, FedEx 0.672
    assert choose().name == "USPS"
    got = scores(CARRIERS)
    assert got["USPS"] == D("0.930")
    assert got["FedEx"] == D("0.672")  # most punctual but dearest: 0.7 × 0.96 + 0


def test_on_time_weighs_more_than_cost():
    punctual = Carrier("A", D("1.00"), D("20"))  # 0.7 + 0
    cheap = Carrier("B", D("0.50"), D("5"))  # 0.35 + 0.3
    assert choose([cheap, punctual]).name == "A"


def test_cost_decides_between_equally_punctual_carriers():
    dear = Carrier("A", D("0.90"), D("20"))
    cheap = Carrier("B", D("0.90"), D("5"))
    assert choose([dear, cheap]).name == "B"


def test_a_tie_goes_to_the_first_name_whatever_the_order_given():
    a = Carrier("Alpha", D("0.9"), D("10"))
    b = Carrier("Beta", D("0.9"), D("10"))
    assert choose([b, a]).name == "Alpha"
    assert choose([a, b]).name == "Alpha"


def test_one_carrier_is_chosen_and_none_is_an_error():
    only = Carrier("Solo", D("0.5"), D("9"))
    assert choose([only]) == only
    with pytest.raises(ValueError):
        choose([])
