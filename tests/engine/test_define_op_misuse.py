"""define_op can't break the engine: every hostile or mistaken definition below is refused with a
message naming the problem, and leaves the engine exactly as it was (the registry, Value's
attributes, the formula language, and ordinary ops, checked against finite differences)."""

from __future__ import annotations

import math

import pytest

import engine
from engine import Value, define_op, gradcheck
from engine.cli.formula import FormulaError, parse_formula
from engine.core.value import registry


def _valid(**changes):
    fields = dict(name="probe_op", forward=math.atan, derivative=lambda x, out: 1 / (1 + x * x))
    fields.update(changes)
    return fields


def _refuses_everything(x):
    raise ValueError("no")


MISUSES = [
    # names
    ("name None", _valid(name=None), TypeError, "name is a str"),
    ("name int", _valid(name=123), TypeError, "name is a str"),
    ("name empty", _valid(name=""), ValueError, "not a usable op name"),
    ("name with a space", _valid(name="my op"), ValueError, "not a usable op name"),
    ("name starting with a digit", _valid(name="1abc"), ValueError, "not a usable op name"),
    ("name with a dot", _valid(name="x.y"), ValueError, "not a usable op name"),
    ("name an operator", _valid(name="+"), ValueError, "not a usable op name"),
    ("name a keyword", _valid(name="for"), ValueError, "not a usable op name"),
    ("name backward", _valid(name="backward"), ValueError, r"taken by Value itself \(Value.backward\)"),
    ("name data", _valid(name="data"), ValueError, "taken by Value itself"),
    ("name grad", _valid(name="grad"), ValueError, "taken by Value itself"),
    ("name label", _valid(name="label"), ValueError, "taken by Value itself"),
    ("name draw", _valid(name="draw"), ValueError, "taken by Value itself"),
    ("name __add__", _valid(name="__add__"), ValueError, "taken by Value itself"),
    ("name private", _valid(name="_mine"), ValueError, "taken by Value itself"),
    ("name tanh", _valid(name="tanh"), ValueError, "gradwalk's own ops"),
    ("name dot", _valid(name="dot"), ValueError, "gradwalk's own ops"),
    ("name sum", _valid(name="sum"), ValueError, "gradwalk's own ops"),
    # forward
    ("forward None", _valid(forward=None), TypeError, "forward must be a function"),
    ("forward a number", _valid(forward=3.0), TypeError, "forward must be a function"),
    ("forward returns a string", _valid(forward=lambda x: "a"), TypeError, r"forward\(0.5\) returned 'a', not a real"),
    ("forward returns None", _valid(forward=lambda x: None), TypeError, "returned None, not a real"),
    ("forward returns a tuple", _valid(forward=lambda x: (x, x)), TypeError, "not a real number"),
    ("forward returns a bool", _valid(forward=lambda x: x > 0), TypeError, "not a real number"),
    ("forward returns complex", _valid(forward=complex), TypeError, "not a real number"),
    ("forward raises TypeError", _valid(forward=lambda x: x + "s"), TypeError, r"forward\(0.5\) raised TypeError"),
    ("forward refuses everything", _valid(forward=_refuses_everything), ValueError, "refused every input"),
    ("forward takes two for one", _valid(forward=lambda a, b: a), TypeError, r"forward is called as f\(x\)"),
    ("forward takes none", _valid(forward=lambda: 1.0), TypeError, r"forward is called as f\(x\)"),
    # derivatives
    ("derivative None", _valid(derivative=None), TypeError, "a function or a number"),
    ("derivative a string", _valid(derivative="cos"), TypeError, "a function or a number"),
    ("derivative a bool", _valid(derivative=True), TypeError, "a function or a number"),
    ("derivative returns a string", _valid(derivative=lambda x, out: "a"), TypeError, "must give 1 real number"),
    ("derivative returns None", _valid(derivative=lambda x, out: None), TypeError, "must give 1 real number"),
    ("derivative returns a pair", _valid(derivative=lambda x, out: (1.0, 2.0)), TypeError, "must give 1 real number"),
    ("derivative returns a list", _valid(derivative=lambda x, out: [1.0]), TypeError, "must give 1 real number"),
    ("derivative without out", _valid(derivative=lambda x: 1.0), TypeError, r"called as f\(x, out\)"),
    ("derivative raises TypeError", _valid(derivative=lambda x, out: x + "s"), TypeError, "derivative at .* raised"),
    ("one derivative for two operands", _valid(forward=lambda a, b: a, derivative=lambda a, b, out: 1.0, arity=2),
     TypeError, "pair of derivatives"),
    ("a lone derivative in a tuple", _valid(forward=lambda a, b: a, derivative=(lambda a, b, out: 1.0,)),
     TypeError, "pair of derivatives"),
    ("three derivatives", _valid(forward=lambda a, b: a, derivative=(1.0, 2.0, 3.0)), TypeError, "pair of derivatives"),
    ("a pair with a string", _valid(forward=lambda a, b: a * b, derivative=(lambda a, b, out: "x", 1.0)),
     TypeError, "must give 2 real number"),
    ("a pair with a bad signature", _valid(forward=lambda a, b: a * b, derivative=(lambda a, out: b, 1.0)),
     TypeError, r"called as f\(a, b, out\)"),
    ("binary forward of one operand", _valid(forward=math.atan, derivative=(1.0, 1.0)), TypeError,
     r"forward is called as f\(a, b\)"),
    ("n-ary derivative of the wrong count", _valid(forward=sum, derivative=lambda xs, out: (1.0,), arity=None),
     TypeError, r"must give 3 real number"),
    ("n-ary derivative a number", _valid(forward=sum, derivative=1.0, arity=None), TypeError, "one slope per operand"),
    ("n-ary derivative returns a string", _valid(forward=sum, derivative=lambda xs, out: "1", arity=None),
     TypeError, "real number"),
    # arity
    ("arity 3", _valid(arity=3), ValueError, "arity is 1, 2 or None"),
    ("arity 0", _valid(arity=0), ValueError, "arity is 1, 2 or None"),
    ("arity a string", _valid(arity="two"), ValueError, "arity is 1, 2 or None"),
    ("arity True", _valid(arity=True), ValueError, "arity is 1, 2 or None"),
    # the other fields
    ("formula a number", _valid(formula=123), TypeError, "formula is text"),
    ("formula None", _valid(formula=None), TypeError, "formula is text"),
    ("doc a number", _valid(doc=5), TypeError, "doc is text"),
    ("kinks None", _valid(kinks=None), TypeError, "kinks is a list of numbers"),
    ("kinks a string", _valid(kinks="0"), TypeError, "kinks is a list of numbers"),
    ("kinks a number", _valid(kinks=0.0), TypeError, "kinks is a list of numbers"),
    ("kinks of strings", _valid(kinks=["a"]), TypeError, "kinks must be numbers"),
    ("kinks of bools", _valid(kinks=[True]), TypeError, "kinks must be numbers"),
    ("linear_in out of range", _valid(linear_in=[5]), TypeError, "linear_in lists operand positions"),
    ("linear_in a string", _valid(linear_in="0"), TypeError, "linear_in lists operand positions"),
    ("commutative a string", _valid(commutative="yes"), TypeError, "commutative is True or False"),
    ("commutative for one operand", _valid(commutative=True), TypeError, "True only for two operands"),
    ("array_forward a number", _valid(array_forward=5), TypeError, "array_forward is a function"),
    ("method a number", _valid(method=5), ValueError, "method must be a plain identifier"),
    ("method with a space", _valid(method="two words"), ValueError, "method must be a plain identifier"),
    ("method a dunder", _valid(method="__neg__"), ValueError, "method must be a plain identifier"),
    ("method data", _valid(method="data"), ValueError, "Value already has an attribute 'data'"),
    ("method backward", _valid(method="backward"), ValueError, "Value already has an attribute 'backward'"),
    ("method for two operands", _valid(forward=lambda a, b: a * b, derivative=(1.0, 1.0), method="m"),
     TypeError, "only one-operand ops become Value methods"),
]


def test_there_are_at_least_sixty_misuses():
    assert len(MISUSES) >= 60


def _engine_state():
    return (dict(registry), sorted(dir(Value)), sorted(dir(engine)))


@pytest.mark.parametrize("fields,error,message", [m[1:] for m in MISUSES], ids=[m[0] for m in MISUSES])
def test_a_misuse_is_refused_clearly_and_leaves_the_engine_as_it_was(fields, error, message):
    before = _engine_state()
    with pytest.raises(error, match=message) as caught:
        define_op(**fields)
    assert len(str(caught.value)) < 400 and "\n" not in str(caught.value)
    assert _engine_state() == before
    name = fields["name"]
    if isinstance(name, str) and name.isidentifier() and name not in registry:
        with pytest.raises(FormulaError):
            parse_formula(f"{name}(x)")
    # Ordinary ops still agree with finite differences, first and second derivatives included.
    assert gradcheck(lambda x, y: (x * y + 1).tanh() * x.exp() / (y * y + 1) - x.sin(), 0.3, -0.7)
    assert engine.gradgradcheck(lambda x: (x * x).tanh() + x.log(), 1.3)


def test_a_refused_redefinition_keeps_the_earlier_op():
    mine = define_op("kept_op", math.atan, lambda x, out: 1 / (1 + x * x))
    try:
        with pytest.raises(TypeError):
            define_op("kept_op", math.atan, lambda x, out: "broken")
        assert registry["kept_op"] is mine and Value(1.0).kept_op().data == math.atan(1.0)
    finally:
        engine.forget_op("kept_op")


def test_a_good_definition_after_many_refused_ones_works_everywhere():
    for _, fields, error, _ in MISUSES:
        with pytest.raises(error):
            define_op(**fields)
    atan = define_op("probe_op", math.atan, lambda x, out: 1 / (1 + x * x), formula="1/(1 + x**2)")
    try:
        assert engine.probe_op is atan and gradcheck(lambda x: x.probe_op() * x, 0.4)
        assert parse_formula("probe_op(x)").evaluate({"x": Value(1.0)}).data == math.atan(1.0)
    finally:
        engine.forget_op("probe_op")
