"""gradwalk.nn: neurons, layers and MLPs built from engine Values, and everything to train them.

    >>> from nn import MLP, SGD, fit, make_moons
    >>> X, y = make_moons(100, noise=0.1, seed=0)
    >>> model = MLP(2, [16, 16, 1], seed=0)
    >>> history = fit(model, X, y, loss="hinge", optimizer=SGD(model.parameters(), lr=0.1),
    ...               epochs=5, progress=False)
    >>> history.epochs
    5

Plotting lives in `nn.plot` (needs matplotlib) and is imported from there, or lazily through
`nn.plot_history` / `nn.plot_decision_boundary`.
"""

from nn.module import Module, resolve_rng
from nn.serialization import FILE_FORMAT, FILE_VERSION, MAX_FILE_BYTES, ModelFileError, read_model_file
from nn.layers import ACTIVATIONS, INITS, MAX_LOAD_PARAMETERS, MLP, Layer, Neuron, load_model, parameter_count
from nn.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge_loss,
    l2_penalty,
    mse_loss,
    softmax,
)
from nn.optim import SGD, Adam, NonFiniteGradientError, Optimizer, RMSprop
from nn.datasets import (
    Standardizer, load_csv, load_digits, make_blobs, make_circles, make_moons, make_spiral, make_xor, train_test_split,
)
from nn.torch_twin import from_torch, to_torch, torch_gradients  # torch itself is imported on first use
from nn.notebook import TrainView  # anywidget itself is imported on first display
from nn.prediction import accuracy, predict, predict_proba, predicted_class
from nn.train import LOSSES, History, TrainingDivergedError, fit, train_step


def plot_history(history, path):
    """See `nn.plot.plot_history` (imported on first use: matplotlib is optional)."""
    from nn.plot import plot_history as _plot

    _plot(history, path)


def plot_decision_boundary(model, X, y, path, **kwargs):
    """See `nn.plot.plot_decision_boundary` (imported on first use: matplotlib is optional)."""
    from nn.plot import plot_decision_boundary as _plot

    _plot(model, X, y, path, **kwargs)


def open_playground(model=None, X=None, y=None, **options):
    """See `nn.playground.open_playground`: train and backprop live in the browser (imported on
    first use: the web server it needs is the optional `playground` extra)."""
    from nn.playground import open_playground as _open

    return _open(model, X, y, **options)


__all__ = [
    "Module", "ModelFileError", "FILE_FORMAT", "FILE_VERSION", "read_model_file", "resolve_rng", "load_model",
    "MAX_LOAD_PARAMETERS", "MAX_FILE_BYTES", "parameter_count",
    "Neuron", "Layer", "MLP", "ACTIVATIONS", "INITS",
    "mse_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "hinge_loss", "cross_entropy",
    "l2_penalty", "softmax",
    "Optimizer", "SGD", "Adam", "RMSprop", "NonFiniteGradientError",
    "make_moons", "make_circles", "make_xor", "make_blobs", "make_spiral", "train_test_split",
    "load_digits", "load_csv", "Standardizer", "to_torch", "from_torch", "torch_gradients",
    "fit", "train_step", "predict", "predict_proba", "predicted_class", "accuracy", "History",
    "TrainingDivergedError", "LOSSES",
    "plot_history", "plot_decision_boundary", "open_playground", "TrainView",
]
