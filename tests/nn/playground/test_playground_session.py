"""The playground's parts without the web: the boundary map, the recorded backward pass, a tab's
session, and starting the server from Python and from the `gradwalk` command."""

from __future__ import annotations

import json
import math
import re
import signal
import subprocess
import sys

import pytest

pytest.importorskip("starlette")

import httpx  # noqa: E402

import nn  # noqa: E402
from engine import Value, topological_order  # noqa: E402
from nn.playground import adapters, boundary  # noqa: E402
from nn.playground.layout import Layouts  # noqa: E402
from nn.playground.session import Session  # noqa: E402


def model_with(activation="tanh", output="linear", seed=3):
    return nn.MLP(2, [5, 4, 1], activation=activation, output_activation=output, seed=seed)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
def test_the_batched_map_is_the_engine_evaluated_point_by_point(activation, monkeypatch):
    pytest.importorskip("numpy")
    model = model_with(activation, output="sigmoid")
    bounds = [-2.0, 3.0, -1.0, 1.5]
    fast = boundary.boundary_map(model, bounds, 0.5, 4.0, size=12)
    fast_neuron = boundary.neuron_map(model, 1, 2, bounds, size=9)
    monkeypatch.setattr(boundary, "numpy", None)  # the path taken without numpy: the engine itself
    slow = boundary.boundary_map(model, bounds, 0.5, 4.0, size=12)
    assert max(abs(a - b) for a, b in zip(fast, slow)) <= 1  # rounding at a shade's edge at most
    assert boundary.neuron_map(model, 1, 2, bounds, size=9) == fast_neuron
    # and one pixel by hand: the top-left pixel's centre
    x, y = -2.0 + 5.0 / 24, 1.5 - 2.5 / 24
    out = model([x, y]).data
    assert slow[0] == round(100 * math.tanh(4.0 * (out - 0.5)))


def test_without_numpy_the_page_gets_a_coarser_map_from_the_engine():
    code = ("import sys; sys.modules['numpy'] = None\n"
            "from nn.playground.session import Session\n"
            "s = Session(); state = s.state(); s.playing = True; frame = s.train_for(0.0)[0]\n"
            "print(state['numpy'], state['boundary']['size'], len(frame['boundary']['values']), frame['steps'])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["False", "24", str(24 * 24), "1"], result.stderr


def test_the_map_reads_class_1_as_positive():
    model = nn.MLP(2, [1], output_activation="linear", seed=0)
    model.layers[0].neurons[0].w[0].data, model.layers[0].neurons[0].w[1].data = 1.0, 0.0
    model.layers[0].neurons[0].b.data = 0.0
    shades = boundary.boundary_map(model, [-1, 1, -1, 1], 0.0, 1.0, size=4)
    for row in range(4):
        assert shades[4 * row] < 0 < shades[4 * row + 3]  # left of x=0 class 0, right of it class 1


def test_the_recorded_steps_replay_to_what_backward_leaves():
    x, w, b = Value(2.0, "x"), Value(-3.0, "w"), Value(6.8813735870195432, "b")
    n = x * w + b
    o = (n.tanh() * n + x).tanh()
    o.label = "o"
    recorded = adapters.record_backward(o)
    order = topological_order(o)
    grads = {recorded["root"]: "grad 1"}
    for step in recorded["steps"]:
        assert step["header"].startswith(f"step {recorded['steps'].index(step) + 1}")
        assert step["text"]
        for parent, text in step["edges"]:
            grads[parent] = text
    assert [grads[k] for k in range(len(order))] == [adapters.grad_text(node.grad) for node in order]
    assert recorded["names"][recorded["root"]] == "o" and recorded["data"][0] == adapters.data_text(x.data)


def test_a_drawing_is_laid_out_once_per_shape():
    def graph(a):
        x = Value(a, "x")
        out = (x * 3.0 + 1.0).tanh()
        out.label = "f"
        return out

    assert adapters.structure_key(graph(1.0)) == adapters.structure_key(graph(-2.5))
    first = graph(1.0)
    first.backward()
    source, grouping = adapters.graph_dot(first)
    svg = Layouts().svg(source)
    assert grouping == "plain" and "grad &#45;8.888e&#45;88" in svg  # boxes sized for the widest number
    assert first.data == pytest.approx(math.tanh(4.0))  # ... and the numbers put back


def test_a_session_trains_and_the_loss_falls():
    session = Session()
    session.playing = True
    frames = []
    while len(frames) < 21:  # a slice is at least one step; a frame comes once it costs at most a third
        frames.extend(session.train_for(0.0))
    first, last = frames[0], frames[-1]
    assert last["steps"] >= 21 and last["loss"] < first["loss"]
    assert len(session.history) == 21 and session.history[-1][0] == last["steps"]


def test_minibatches_cover_every_point_once_per_epoch():
    session = Session()
    session.config["batch_size"] = 30
    seen = [i for _ in range(4) for i in session._next_batch()]  # 100 points: 3 full batches an epoch
    assert sorted(seen[:90]) == sorted(set(seen[:90])) and session.epoch == 2


def test_the_sample_view_steps_through_a_snapshot_not_the_training_model():
    session = Session()
    params = session.model.parameters()
    reply = session.handle({"type": "sample", "index": 0, "x": None})[0]
    assert reply["type"] == "sample" and reply["svg"]
    assert all(p.grad == 0.0 for p in params)  # the sample's backward touched only its own copy
    moved = session.handle({"type": "sample", "index": 0, "x": [0.5, -0.5]})[0]
    assert moved["svg"] is None and moved["x"] == [0.5, -0.5]


def test_the_largest_network_is_drawn_one_box_per_neuron():
    session = Session()
    session.handle({"type": "config", "hidden": [32, 32, 32, 32], "activation": "tanh", "loss": "hinge",
                    "optimizer": "sgd", "lr": 0.1, "batch_size": None, "l2": 0.0, "seed": 0})
    reply = session.handle({"type": "sample", "index": 0, "x": None})[0]
    assert reply["type"] == "sample" and reply["grouping"] == "collapse"
    assert len(reply["names"]) > 3000 and len(reply["steps"]) > 100
    assert reply["svg"].count('class="node"') < 200  # one box per neuron, not one per value


def test_the_playground_starts_from_python_and_stops(capsys):
    server = nn.open_playground(open_browser=False, block=False)
    try:
        assert re.match(r"http://127\.0\.0\.1:\d+/$", server.url)
        assert server.url in capsys.readouterr().out
        page = httpx.get(server.url, timeout=10)
        assert page.status_code == 200 and "gradwalk playground" in page.text
        refused = httpx.get(server.url, headers={"host": "rebind.example"}, timeout=10)
        assert refused.status_code == 403 and "DNS rebinding" in refused.text
        # uvicorn's real WebSocket, from a foreign page: refused before it opens, with the reason.
        from websockets.exceptions import InvalidStatus
        from websockets.sync.client import connect

        socket_url = server.url.replace("http://", "ws://") + "ws"
        with pytest.raises(InvalidStatus) as foreign:
            connect(socket_url, origin="http://evil.example", open_timeout=10)
        assert foreign.value.response.status_code == 403
        assert b"a WebSocket from Origin 'http://evil.example'" in foreign.value.response.body
        with connect(socket_url, origin=server.url.rstrip("/"), open_timeout=10) as own:
            assert json.loads(own.recv(timeout=10))["type"] == "state"
    finally:
        server.stop()
    with pytest.raises(httpx.HTTPError):
        httpx.get(server.url, timeout=2)


def test_the_gradwalk_command_serves_until_interrupted():
    command = [sys.executable, "-c", "import sys; from nn.cli import main; sys.exit(main())",
               "playground", "--no-browser", "--port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        assert httpx.get(url, timeout=10).status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err


@pytest.mark.parametrize("args, message", [
    (["--port", "70000"], "port must be an int from 0 to 65535, got 70000"),
    (["--save-dir", "/no/such/folder"], "is not an existing folder"),
])
def test_the_gradwalk_command_refuses_bad_options_in_one_line(args, message):
    command = [sys.executable, "-c", "import sys; from nn.cli import main; sys.exit(main())",
               "playground", "--no-browser", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_busy_port_is_refused_in_one_line():
    server = nn.open_playground(open_browser=False, block=False)
    try:
        command = [sys.executable, "-m", "nn.playground", "--no-browser", "--port", str(server.port)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    finally:
        server.stop()
    assert result.returncode == 2 and f"cannot listen on 127.0.0.1:{server.port}" in result.stderr


def test_without_the_extra_the_error_names_it():
    code = ("import sys; sys.modules['starlette'] = None; import nn\n"
            "try:\n    nn.open_playground(open_browser=False)\nexcept ImportError as e:\n    print(e)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "pip install 'gradwalk[playground]'" in result.stdout


def test_importing_nn_or_the_engine_cli_loads_no_web_server():
    code = ("import sys, nn, engine.cli; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('starlette', 'uvicorn', 'nn') and m != 'nn'"
            " and not m.startswith('nn.') or m.startswith('nn.playground')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
    engine_only = subprocess.run([sys.executable, "-c", "import sys, engine.cli; print('nn' in sys.modules)"],
                                 capture_output=True, text=True, timeout=60)
    assert engine_only.stdout.strip() == "False"
