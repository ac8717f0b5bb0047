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

from nn.module import FILE_FORMAT, FILE_VERSION, Module, ModelFileError, read_model_file, resolve_rng
from nn.layers import ACTIVATIONS, INITS, MLP, Layer, Neuron, parameter_count
from nn.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge_loss,
    l2_penalty,
    mse_loss,
)
from nn.optim import SGD, Adam, NonFiniteGradientError, Optimizer, RMSprop
from nn.data import make_blobs, make_circles, make_moons, make_spiral, make_xor, train_test_split
from nn.train import LOSSES, History, TrainingDivergedError, accuracy, fit, predict


MAX_LOAD_PARAMETERS = 1_000_000
"""The largest model `load_model` builds: every parameter is a Python object, so a million
already takes seconds and hundreds of MB (build a bigger one yourself and call its `load`)."""


def load_model(path):
    """Rebuild a `Neuron`, `Layer` or `MLP` from a file written by `save`, parameters included.

    The architecture recorded in the file decides what is built; a file saved from any other
    kind of module raises `ModelFileError` (create that module yourself and call its `load`).
    Before anything is built, the parameter count the architecture implies must match the
    file's parameters and be at most `MAX_LOAD_PARAMETERS`, so a corrupt or hostile size
    is refused at once instead of building millions of Values.
    """
    document = read_model_file(path)
    arch = dict(document["architecture"])
    kind = arch.pop("type", None)
    builders = {"MLP": MLP, "Layer": Layer, "Neuron": Neuron}
    if kind not in builders:
        raise ModelFileError(f"{path}: load_model rebuilds MLP, Layer or Neuron, but the file holds {kind!r}")
    count = parameter_count(document["architecture"])
    if count is not None:  # None: malformed sizes, which the constructor below reports cheaply
        if count > MAX_LOAD_PARAMETERS:
            raise ModelFileError(
                f"{path}: architecture {_brief(document['architecture'])} implies "
                f"{count if count < 10**18 else 'over 10**18'} parameters, more than load_model builds "
                f"(MAX_LOAD_PARAMETERS = {MAX_LOAD_PARAMETERS})"
            )
        if count != len(document["parameters"]):
            raise ModelFileError(
                f"{path}: architecture {_brief(document['architecture'])} implies {count} parameters, "
                f"but the file has {len(document['parameters'])}"
            )
    try:
        model = builders[kind](**arch, seed=0)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: corrupt architecture {document['architecture']}: {exc}") from None
    model.load(path)
    return model


def _brief(architecture: dict) -> str:
    # A hostile architecture can hold huge numbers; keep the message readable.
    text = str(architecture)
    return text if len(text) <= 200 else text[:200] + "...}"


def plot_history(history, path):
    """See `nn.plot.plot_history` (imported on first use: matplotlib is optional)."""
    from nn.plot import plot_history as _plot

    _plot(history, path)


def plot_decision_boundary(model, X, y, path, **kwargs):
    """See `nn.plot.plot_decision_boundary` (imported on first use: matplotlib is optional)."""
    from nn.plot import plot_decision_boundary as _plot

    _plot(model, X, y, path, **kwargs)


__all__ = [
    "Module", "ModelFileError", "FILE_FORMAT", "FILE_VERSION", "read_model_file", "resolve_rng", "load_model",
    "MAX_LOAD_PARAMETERS", "parameter_count",
    "Neuron", "Layer", "MLP", "ACTIVATIONS", "INITS",
    "mse_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "hinge_loss", "cross_entropy",
    "l2_penalty",
    "Optimizer", "SGD", "Adam", "RMSprop", "NonFiniteGradientError",
    "make_moons", "make_circles", "make_xor", "make_blobs", "make_spiral", "train_test_split",
    "fit", "predict", "accuracy", "History", "TrainingDivergedError", "LOSSES",
    "plot_history", "plot_decision_boundary",
]
