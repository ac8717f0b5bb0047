"""The real-data demos: demos/digits.py (a softmax MLP on handwritten digits) and
demos/pytorch_twin.py (the same MLP in gradwalk and PyTorch). Both need scikit-learn's digits;
the twin needs PyTorch too. The full digits run is slow (about 10 epochs of a few seconds)."""

from __future__ import annotations

import sys

import pytest

from demo_loader import load


def check_digits_result(result, out):
    counts = result["confusion"]
    n_test = result["n_test"]
    assert len(counts) == 10 and all(len(row) == 10 for row in counts)
    assert sum(map(sum, counts)) == n_test
    correct = sum(counts[d][d] for d in range(10))
    assert result["accuracy"] == correct / n_test == result["test_accuracy"][-1]
    assert result["misclassified"] == n_test - correct
    assert len(result["epoch_seconds"]) == len(result["loss"]) == result["epochs"]
    assert result["loss"][-1] < result["loss"][0]
    picture = out / "misclassified.png"
    assert picture.is_file() and picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result["files"] == [str(picture)]


@pytest.mark.slow  # a demo run: seconds
def test_digits_short_run_learns_and_reports(tmp_path, capsys):
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    demo = load("digits")
    result = demo.main(["--out", str(tmp_path), "--epochs", "2", "--samples", "400"])
    out = capsys.readouterr().out
    check_digits_result(result, tmp_path)
    assert result["n_train"] == 300 and result["n_test"] == 100
    assert result["n_params"] == 65 * 32 + 33 * 10
    assert result["accuracy"] >= 0.8  # chance is 0.1
    assert result["path"] == ("replay" if demo.replay_available() else "node")
    assert f"training path: {'replay (numpy)' if result['path'] == 'replay' else 'node by node'}" in out
    assert "epoch  2/2" in out and "time per epoch: node by node" in out
    assert "true \\ predicted    0   1   2" in out
    assert f"final test accuracy: {result['accuracy']:.1%}" in out


@pytest.mark.slow  # a demo run: seconds
def test_digits_refuses_a_replay_path_it_does_not_have(tmp_path):
    pytest.importorskip("sklearn")
    demo = load("digits")
    if demo.replay_available():
        result = demo.main(["--out", str(tmp_path), "--epochs", "1", "--samples", "200", "--path", "replay",
                            "--quiet"])
        assert result["path"] == "replay" and set(result["seconds_per_epoch"]) == {"node", "replay"}
    else:
        with pytest.raises(SystemExit):
            demo.main(["--out", str(tmp_path), "--path", "replay", "--quiet"])


@pytest.mark.slow
def test_digits_replay_and_node_paths_train_the_same_network(tmp_path):
    pytest.importorskip("sklearn")
    demo = load("digits")
    if not demo.replay_available():
        pytest.skip("this gradwalk's fit has no replay path (or numpy is missing)")
    common = ["--epochs", "2", "--samples", "300", "--quiet"]
    node = demo.main(["--out", str(tmp_path / "node"), "--path", "node"] + common)
    replay = demo.main(["--out", str(tmp_path / "replay"), "--path", "replay"] + common)
    assert (node["path"], replay["path"]) == ("node", "replay")
    assert replay["loss"] == pytest.approx(node["loss"], rel=1e-9)
    assert replay["confusion"] == node["confusion"]


def test_confusion_matrix_counts_true_rows_and_predicted_columns():
    demo = load("digits")
    counts = demo.confusion_matrix([0, 0, 1, 2, 2], [0, 1, 1, 2, 0], classes=3)
    assert counts == [[1, 1, 0], [0, 1, 0], [1, 0, 1]]
    assert demo.format_confusion(counts).splitlines()[1] == "               0    1   1   0"


@pytest.mark.slow
def test_digits_full_run_reaches_95_percent(tmp_path):
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    result = load("digits").main(["--out", str(tmp_path), "--quiet"])
    check_digits_result(result, tmp_path)
    assert result["epochs"] == 10 and result["n_test"] == 449
    assert result["accuracy"] >= 0.95


@pytest.mark.slow  # a demo run: seconds
def test_pytorch_twin_agrees_then_trains_in_pytorch(capsys):
    pytest.importorskip("sklearn")
    pytest.importorskip("torch")
    result = load("pytorch_twin").main(["--epochs", "2"])
    out = capsys.readouterr().out
    assert abs(result["loss"] - result["torch_loss"]) <= 1e-12 * result["loss"]
    assert set(result["gradients"]) == set(result["torch_gradients"])
    assert len(result["gradients"]) == 2410
    assert max(abs(g) for g in result["gradients"].values()) > 0.01  # the comparison is not of zeros
    assert result["max_relative_difference"] < 1e-9
    assert result["step_difference"] < 1e-12
    assert result["torch_accuracy"] == result["gradwalk_accuracy"] >= 0.9
    assert len(result["test_accuracy"]) == 2
    assert "tensor           entries    max |grad|  max abs diff  max rel diff" in out
    for tensor in ("layers.0 weight     2048", "layers.0 bias         32", "layers.1 weight      320",
                   "layers.1 bias         10"):
        assert tensor in out
    assert result["max_relative_difference_at"] in result["gradients"]
    assert f"largest relative difference over all gradients: {result['max_relative_difference']:.3g}, at " in out
    assert f"test accuracy: PyTorch {result['torch_accuracy']:.1%}, gradwalk {result['gradwalk_accuracy']:.1%}" in out
