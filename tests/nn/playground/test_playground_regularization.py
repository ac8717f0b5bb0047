"""L1 as well as L2: the penalty's number and gradient, and a session that trains with it."""

from __future__ import annotations

import math

import pytest

from engine import Value
from nn.playground import adapters
from nn.playground.protocol import ProtocolError, parse_message
from nn.playground.session import Session
from playground_support import config


@pytest.mark.parametrize("l2, l1", [(0.0, 0.0), (0.1, 0.0), (0.0, 0.25), (0.1, 0.25)])
def test_penalty_is_l2_sum_of_squares_plus_l1_sum_of_magnitudes(l2, l1):
    params = [Value(v) for v in (-2.0, 0.5, 0.0, 3.0)]
    penalty = adapters.penalty(params, l2, l1)
    if not (l2 or l1):
        assert penalty is None
        return
    assert penalty.data == pytest.approx(l2 * 13.25 + l1 * 5.5, rel=1e-15)
    penalty.backward()
    # d/dw: 2 l2 w + l1 sign(w), with sign(0) = 0 (the subgradient that keeps a 0 weight at 0).
    assert [p.grad for p in params] == pytest.approx([2 * l2 * w + l1 * math.copysign(w != 0, w)
                                                      for w in (-2.0, 0.5, 0.0, 3.0)])


def test_the_session_trains_with_l1_and_the_loss_includes_it():
    plain, with_l1 = Session(), Session()
    with_l1.handle(parse_message(config(l1=0.05)))
    assert with_l1.config["l1"] == 0.05 and plain.config["l1"] == 0.0
    plain.handle(parse_message(config()))
    first_plain = plain.handle({"type": "step"})[0]["loss"]
    first_l1 = with_l1.handle({"type": "step"})[0]["loss"]
    weights = [p.data for p in Session().model.parameters()]  # the same start: seed 0
    assert first_l1 == pytest.approx(first_plain + 0.05 * sum(abs(w) for w in weights), rel=1e-12)
    for _ in range(30):
        plain.handle({"type": "step"})
        with_l1.handle({"type": "step"})
    size = lambda s: sum(abs(p.data) for p in s.model.parameters())
    assert size(with_l1) < size(plain)  # L1 shrinks the weights


def test_l1_is_optional_and_checked():
    assert parse_message(config())["l1"] == 0.0
    for bad, words in (("-0.1", "l1 must lie in [0, 1], got -0.1"), ('"x"', "l1 must be a number")):
        with pytest.raises(ProtocolError, match=words.replace("[", r"\[").replace("]", r"\]")):
            parse_message(config()[:-1] + f', "l1": {bad}}}')
