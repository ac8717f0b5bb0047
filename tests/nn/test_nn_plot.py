"""Plots: files of the right type, byte-identical on repeat, clear errors."""

import sys

import pytest

pytest.importorskip("matplotlib")

from nn import MLP, SGD, fit, make_blobs, make_moons, plot_decision_boundary, plot_history  # noqa: E402


@pytest.fixture(scope="module")
def trained():
    X, y = make_moons(30, noise=0.1, seed=0)
    model = MLP(2, [6, 1], seed=0)
    history = fit(model, X, y, optimizer=SGD(model.parameters(), lr=0.1), epochs=5, progress=False)
    return model, X, y, history


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<?xml")])
def test_history_plot_written_and_deterministic(tmp_path, trained, suffix, magic):
    *_, history = trained
    a, b = tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
    plot_history(history, a)
    plot_history(history, b)
    assert a.read_bytes().startswith(magic)
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize("suffix", [".png", ".SVG"])
def test_decision_boundary_written_and_deterministic(tmp_path, trained, suffix):
    model, X, y, _ = trained
    a, b = tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
    plot_decision_boundary(model, X, y, a, resolution=15)
    plot_decision_boundary(model, X, y, b, resolution=15)
    assert a.stat().st_size > 1000
    assert a.read_bytes() == b.read_bytes()


def test_decision_boundary_multiclass(tmp_path):
    X, y = make_blobs(30, centers=3, seed=0)
    path = tmp_path / "blobs.svg"
    plot_decision_boundary(MLP(2, [4, 3], seed=0), X, y, path, resolution=10)
    assert b"<svg" in path.read_bytes()


def test_plotting_does_not_touch_pyplot_state(tmp_path, trained):
    import matplotlib

    backend = matplotlib.get_backend()
    model, X, y, history = trained
    plot_history(history, tmp_path / "h.png")
    assert matplotlib.get_backend() == backend
    assert "matplotlib.pyplot" not in sys.modules or not sys.modules["matplotlib.pyplot"].get_fignums()


def test_bad_arguments(tmp_path, trained):
    model, X, y, history = trained
    with pytest.raises(ValueError, match=r"\.png or \.svg"):
        plot_history(history, tmp_path / "h.jpg")
    with pytest.raises(ValueError, match="2-D"):
        plot_decision_boundary(model, [[1.0, 2.0, 3.0]], [0], tmp_path / "d.png")
    with pytest.raises(ValueError, match="resolution"):
        plot_decision_boundary(model, X, y, tmp_path / "d.png", resolution=1)
    assert list(tmp_path.iterdir()) == []


def test_missing_matplotlib_says_how_to_install(tmp_path, trained, monkeypatch):
    *_, history = trained
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install 'gradwalk\[demos\]'"):
        plot_history(history, tmp_path / "h.png")


def test_decision_boundary_shaded_by_output_without_data(tmp_path):
    from nn import MLP, plot_decision_boundary

    model = MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid", seed=0)
    X, y = [[0.0, 0.0], [1.0, 1.0], [-1.0, 0.5]], [0, 1, 0]
    path = tmp_path / "map.svg"
    plot_decision_boundary(model, X, y, path, shade="output", show_data=False, title="before training",
                           resolution=10)
    svg = path.read_text()
    assert "before training" in svg and "P(class 1)" in svg
    with_data = tmp_path / "with.svg"
    plot_decision_boundary(model, X, y, with_data, shade="output", title="before training", resolution=10)
    assert len(with_data.read_text()) > len(svg)  # the three samples add markers
    with pytest.raises(ValueError, match="shade"):
        plot_decision_boundary(model, X, y, path, shade="probability")
    with pytest.raises(ValueError, match="single output"):
        plot_decision_boundary(MLP(2, [2], seed=0), X, y, path, shade="output")
