"""Pictures of training: loss/accuracy curves and a classifier's decision regions.

matplotlib is an optional extra (`pip install 'gradwalk[demos]'`), imported only when a plot is
made. Figures are drawn with the Agg canvas directly, never through pyplot, so plotting neither
opens windows nor changes the backend of the program that calls it. The file type follows the
path's suffix (.png or .svg), and the same inputs always give byte-identical files.
"""

from __future__ import annotations

import os

from engine import Value, no_grad
from nn.module import whole_number
from nn.prediction import class_labels, default_threshold, predicted_class

_FORMATS = {".png": "png", ".svg": "svg"}


def plot_history(history, path) -> None:
    """Draw the loss and accuracy curves of a `History` (from `fit`) into `path`."""
    fmt = _format(path)
    if not history.loss:
        raise ValueError("the history is empty: nothing to plot")
    mpl = _matplotlib()
    fig = mpl.figure.Figure(figsize=(9.0, 3.6))
    mpl.backends.backend_agg.FigureCanvasAgg(fig)
    epochs = list(range(1, len(history.loss) + 1))
    ax_loss, ax_acc = fig.subplots(1, 2)
    ax_loss.plot(epochs, history.loss, color="tab:blue")
    ax_loss.set(title="loss", xlabel="epoch")
    ax_loss.grid(alpha=0.3)
    ax_acc.plot(epochs, history.accuracy, color="tab:green")
    ax_acc.set(title="accuracy", xlabel="epoch", ylim=(-0.02, 1.02))
    ax_acc.grid(alpha=0.3)
    fig.tight_layout()
    _save(mpl, fig, path, fmt)


def plot_decision_boundary(model, X, y, path, *, resolution: int = 80, threshold=None, shade: str = "class",
                           show_data: bool = True, title: str = "decision boundary") -> None:
    """Colour the plane by the class `model` predicts, with the samples (X, y) on top.

    X must hold 2-D points. The model is evaluated (under `no_grad`) on a resolution x
    resolution grid spanning the data plus a margin. For a one-output model the line where the
    score crosses the threshold (see `nn.prediction`) is drawn too.

    shade: "class" colours each region by its predicted class; "output" (one-output models
    only) colours the plane by the raw output with a colour bar -- for a sigmoid output that is
    P(class 1), showing how sure the network is everywhere, not just its verdict.
    show_data: False leaves the samples out (a map of the model alone, e.g. before training).
    """
    fmt = _format(path)
    if shade not in ("class", "output"):
        raise ValueError(f"shade must be 'class' or 'output', got {shade!r}")
    X, y = list(X), list(y)
    if not X or len(X) != len(y):
        raise ValueError(f"need the same non-zero number of samples and labels, got {len(X)} and {len(y)}")
    if any(len(x) != 2 for x in X):
        raise ValueError("plot_decision_boundary needs 2-D inputs [x1, x2]")
    resolution = whole_number(resolution, "resolution")
    if not 2 <= resolution <= 1000:
        raise ValueError(f"resolution must be an int in [2, 1000], got {resolution!r}")
    classes = class_labels(y)
    if classes is None:
        raise ValueError("plot_decision_boundary needs class labels (0/1, -1/+1 or 0..K-1)")
    if threshold is None:
        threshold = default_threshold(model)
    mpl = _matplotlib()

    xs1 = [float(x[0]) for x in X]
    xs2 = [float(x[1]) for x in X]
    lo1, hi1 = _span(xs1)
    lo2, hi2 = _span(xs2)
    grid1 = [lo1 + (hi1 - lo1) * i / (resolution - 1) for i in range(resolution)]
    grid2 = [lo2 + (hi2 - lo2) * j / (resolution - 1) for j in range(resolution)]
    scores, predicted = [], []  # rows follow x2, columns x1, as contour() expects
    with no_grad():
        for b in grid2:
            score_row, class_row = [], []
            for a in grid1:
                out = model([a, b])
                if isinstance(out, (list, tuple)) and len(out) == 1:
                    out = out[0]
                if isinstance(out, Value):
                    score_row.append(out.data)
                class_row.append(predicted_class(out, threshold))
            scores.append(score_row)
            predicted.append(class_row)

    if shade == "output" and not (scores and scores[0]):
        raise ValueError("shade='output' needs a model with a single output")
    k = max(2, max(classes) + 1, max(max(row) for row in predicted) + 1)
    fig = mpl.figure.Figure(figsize=(5.5, 5.0))
    mpl.backends.backend_agg.FigureCanvasAgg(fig)
    ax = fig.subplots()
    colors = _class_colors(k)
    if shade == "output":
        # A sigmoid output is a probability: pin the colour scale to [0, 1] so maps compare.
        limits = {"vmin": 0.0, "vmax": 1.0} if threshold == 0.5 else {}
        mesh = ax.pcolormesh(grid1, grid2, scores, cmap="RdBu", shading="auto", **limits)
        fig.colorbar(mesh, ax=ax, label="P(class 1)" if threshold == 0.5 else "output")
    else:
        cmap = mpl.colors.ListedColormap(colors)
        levels = [c - 0.5 for c in range(k + 1)]
        ax.contourf(grid1, grid2, predicted, levels=levels, cmap=cmap, alpha=0.35)
    if scores and scores[0]:
        low = min(min(r) for r in scores)
        high = max(max(r) for r in scores)
        if low < threshold < high:
            ax.contour(grid1, grid2, scores, levels=[threshold], colors="black", linewidths=1.0)
    if show_data:
        ax.scatter(xs1, xs2, c=[colors[c] for c in classes], edgecolors="black", linewidths=0.5, s=22, zorder=3)
    ax.set(xlim=(lo1, hi1), ylim=(lo2, hi2), xlabel="x1", ylabel="x2", title=title)
    fig.tight_layout()
    _save(mpl, fig, path, fmt)


# -- helpers --------------------------------------------------------------------------------------


class _Matplotlib:
    """The matplotlib submodules the plots use, imported together."""

    def __init__(self):
        import matplotlib
        import matplotlib.backends.backend_agg
        import matplotlib.colors
        import matplotlib.figure

        self.matplotlib = matplotlib
        self.backends = matplotlib.backends
        self.colors = matplotlib.colors
        self.figure = matplotlib.figure


def _matplotlib() -> _Matplotlib:
    try:
        return _Matplotlib()
    except ImportError as exc:
        raise ImportError("plotting needs matplotlib: pip install 'gradwalk[demos]'") from exc


def _format(path) -> str:
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in _FORMATS:
        raise ValueError(f"cannot tell the image format from {os.fspath(path)!r}: use a .png or .svg path")
    return _FORMATS[suffix]


def _save(mpl, fig, path, fmt: str) -> None:
    # A fixed hash salt and no date make SVG output identical from run to run (matplotlib would
    # otherwise derive element ids from a random salt and stamp the current date).
    if fmt == "svg":
        with mpl.matplotlib.rc_context({"svg.hashsalt": "gradwalk"}):
            fig.savefig(path, format="svg", metadata={"Date": None})
    else:
        fig.savefig(path, format="png", dpi=100)


def _span(values: list[float]) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    margin = 0.1 * (hi - lo) if hi > lo else 1.0
    return lo - margin, hi + margin


def _class_colors(k: int) -> list[str]:
    # Two classes get a red/blue pair; more use matplotlib's 10-colour qualitative cycle.
    if k <= 2:
        return ["#d62728", "#1f77b4"][:max(k, 2)]
    palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
               "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
    return [palette[c % len(palette)] for c in range(k)]
