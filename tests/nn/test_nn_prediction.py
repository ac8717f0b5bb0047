"""nn.prediction: the one rule from outputs to classes, probabilities, and accuracy for class indices."""

import math

import pytest

from engine import Value
from nn import MLP, Layer, Neuron, accuracy, make_blobs, predict, predict_proba, predicted_class


def test_predicted_class_rule():
    assert predicted_class(Value(0.3)) == 1
    assert predicted_class(Value(0.0)) == 0  # a score must be above the threshold
    assert predicted_class(-2.0) == 0
    assert predicted_class([Value(0.7)], threshold=0.5) == 1  # a one-element list is a single score
    assert predicted_class(Value(0.4), threshold=0.5) == 0
    assert predicted_class([Value(0.1), Value(2.0), Value(-1.0)]) == 1
    assert predicted_class([3.0, 3.0, 1.0]) == 0  # the first of equal maxima, as argmax
    assert predicted_class([-5.0, -4.0]) == 1  # several outputs ignore the threshold


def _linear_layer(weights, biases):
    layer = Layer(1, len(weights), "linear", seed=0)
    for neuron, w, b in zip(layer.neurons, weights, biases):
        neuron.w[0].data, neuron.b.data = w, b
    return layer


def test_multiclass_predict_proba_worked_numbers():
    # scores for x = 1: [1, 2, 3]; softmax = e^k / (e + e^2 + e^3)
    layer = _linear_layer([1.0, 2.0, 3.0], [0.0, 0.0, 0.0])
    (row,) = predict_proba(layer, [[1.0]])
    assert row == pytest.approx([0.09003057317038046, 0.24472847105479764, 0.6652409557748219], rel=1e-12)
    assert predict(layer, [[1.0], [-1.0]]) == [2, 0]
    # x = 0: equal scores, equal probabilities, and the prediction is the first class
    assert predict_proba(layer, [[0.0]]) == [[pytest.approx(1 / 3)] * 3]
    assert predict(layer, [[0.0]]) == [0]


def test_binary_predict_proba_for_logits_and_probabilities():
    logit = Neuron(1, "linear", seed=0)
    logit.w[0].data, logit.b.data = 1.0, 0.0
    p = 1 / (1 + math.exp(-2.0))  # sigmoid(2) = 0.8807970779778823
    assert predict_proba(logit, [[2.0], [-2.0]]) == [pytest.approx([1 - p, p]), pytest.approx([p, 1 - p])]
    prob = Neuron(1, "sigmoid", seed=0)
    prob.w[0].data, prob.b.data = 1.0, 0.0
    assert predict_proba(prob, [[2.0]]) == [pytest.approx([1 - p, p])]  # the output is already P(1)
    assert predict_proba(MLP(1, [2, 1], seed=0), [[1.0]])[0][1] == pytest.approx(
        1 / (1 + math.exp(-MLP(1, [2, 1], seed=0)([1.0]).data)))


@pytest.mark.parametrize("make", [lambda s: MLP(2, [4, 3], seed=s), lambda s: MLP(2, [4, 1], seed=s),
                                  lambda s: MLP(2, [4, 1], output_activation="sigmoid", seed=s)])
def test_most_probable_class_is_the_prediction(make):
    X, _ = make_blobs(40, centers=3, seed=1)
    for seed in range(5):
        model = make(seed)
        rows = predict_proba(model, X)
        assert all(sum(row) == pytest.approx(1.0, abs=1e-12) and min(row) >= 0.0 for row in rows)
        assert [row.index(max(row)) for row in rows] == predict(model, X)


def test_accuracy_for_class_indices():
    layer = _linear_layer([1.0, -1.0, 0.0], [0.0, 0.0, 0.5])
    X = [[2.0], [-2.0], [0.1], [0.0]]  # scores: [2,-2,.5] [-2,2,.5] [.1,-.1,.5] [0,0,.5]
    assert predict(layer, X) == [0, 1, 2, 2]
    assert accuracy(layer, X, [0, 1, 2, 2]) == 1.0
    assert accuracy(layer, X, [0, 1, 2, 0]) == 0.75
    with pytest.raises(ValueError, match="class labels"):
        accuracy(layer, X, [0, 1, 2.5, 0])


def test_predict_proba_builds_no_graph():
    model = MLP(2, [3, 2], seed=0)
    before = [p.grad for p in model.parameters()]
    predict_proba(model, [[0.1, 0.2]])
    assert [p.grad for p in model.parameters()] == before
    out = model([0.1, 0.2])
    assert out[0].parents  # recording is back on afterwards
