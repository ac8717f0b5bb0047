"""The playground's server through Starlette's TestClient: the page, Host and Origin refusals,
every message type, saving, a tab's cleanup when its socket closes, and starting from Python.
(Bad messages and limits: test_playground_messages.py.)"""

from __future__ import annotations

import gc
import json
import math
import re
import time
import weakref
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

from starlette.testclient import TestClient, WebSocketDenialResponse  # noqa: E402

import nn  # noqa: E402
from nn.playground.server import STATIC, create_app  # noqa: E402
from playground_support import BASE, ORIGIN, WS, ask, receive  # noqa: E402


# -- the page -----------------------------------------------------------------------------------


def test_the_page_and_its_files_are_served_with_a_strict_policy(client):
    page = client.get("/")
    assert page.status_code == 200 and "<title>gradwalk playground</title>" in page.text
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    for path in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text):
        assert client.get(path).status_code == 200, path
    assert client.get("/static/js/train.js").status_code == 200
    assert client.get("/static/../server.py").status_code == 404


def test_the_page_needs_nothing_from_the_network():
    # Offline: no CDN, no remote script, style, font or import anywhere in the shipped files.
    for path in STATIC.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            remote = re.findall(r'(?:src|href)\s*=\s*["\']?(?:https?:)?//|@import|from\s+["\']https?:|url\(\s*["\']?https?:', text)
            assert not remote, f"{path.name} loads something remote: {remote}"


# -- who may connect ----------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8765", "127.0.0.1.evil.example", "10.0.0.2:8765", ""])
def test_a_foreign_host_header_is_refused(client, host):
    response = client.get("/", headers={"host": host})
    assert response.status_code == 403
    assert "is not 127.0.0.1, localhost or [::1]" in response.text and "DNS rebinding" in response.text


@pytest.mark.parametrize("host", ["127.0.0.1:8765", "localhost:8765", "LOCALHOST", "[::1]:8765"])
def test_local_host_headers_are_served(client, host):
    assert client.get("/", headers={"host": host}).status_code == 200


def test_a_websocket_with_a_foreign_host_is_refused(client):
    with pytest.raises(WebSocketDenialResponse) as refused:
        with client.websocket_connect(WS, headers={"host": "evil.example:8765", **ORIGIN}):
            pass
    assert refused.value.status_code == 403 and "Host header 'evil.example:8765'" in refused.value.text


@pytest.mark.parametrize("origin", ["http://evil.example", "http://127.0.0.1:9999", "null", "https://127.0.0.1:8765",
                                    "http://localhost.evil.example:8765", "file://"])
def test_a_websocket_from_a_foreign_origin_is_refused(client, origin):
    with pytest.raises(WebSocketDenialResponse) as refused:
        with client.websocket_connect(WS, headers={"origin": origin}):
            pass
    assert refused.value.status_code == 403
    assert f"a WebSocket from Origin {origin!r}" in refused.value.text
    assert "only the playground's own page" in refused.value.text


@pytest.mark.parametrize("origin", ["http://[::1", "http://[", "http://[::1]:notaport", "http://[fe80::1]:8765",
                                    "http://[::1]]:8765", "http://127.0.0.1:8765:8765", "http://%5B::1%5D:8765", " "])
def test_an_origin_that_is_not_a_url_is_refused_with_403(client, origin):
    # urlsplit raises ValueError on "http://[::1": that was an HTTP 500 and a traceback.
    with pytest.raises(WebSocketDenialResponse) as refused:
        with client.websocket_connect(WS, headers={"origin": origin}):
            pass
    assert refused.value.status_code == 403 and "only the playground's own page" in refused.value.text


@pytest.mark.parametrize("host", ["[::1", "[", "]", "[::1]x:8765"])
def test_a_host_header_that_is_not_a_host_is_refused_with_403(client, host):
    assert client.get("/", headers={"host": host}).status_code == 403


@pytest.mark.parametrize("headers", [ORIGIN, {"origin": "http://localhost:8765"}, {"origin": "http://[::1]:8765"}, {}])
def test_the_own_page_and_local_programs_may_connect(client, headers):
    with client.websocket_connect(WS, headers=headers) as ws:
        assert ws.receive_json()["type"] == "state"


def test_a_tab_beyond_the_limit_is_told_to_close_another():
    with TestClient(create_app(max_tabs=1), base_url=BASE) as client:
        with client.websocket_connect(WS, headers=ORIGIN) as first:
            first.receive_json()
            with client.websocket_connect(WS, headers=ORIGIN) as second:
                message = second.receive_json()
                assert message["type"] == "error" and "already serves 1 tabs" in message["message"]


# -- every message type -------------------------------------------------------------------------


def test_a_new_tab_gets_the_whole_state(client):
    with client.websocket_connect(WS, headers=ORIGIN) as ws:
        state = ws.receive_json()
    assert state["type"] == "state" and state["dataset"]["name"] == "moons"
    assert len(state["X"]) == len(state["y"]) == 100 and set(state["y"]) == {0, 1}
    assert state["network"]["sizes"] == [2, 16, 16, 1]
    assert len(state["boundary"]["values"]) == state["boundary"]["size"] ** 2 == 64 * 64
    assert state["limits"]["points"] == 2000 and state["limits"]["width"] == 32
    assert state["can_save"] is False and state["steps"] == 0


def test_play_streams_frames_until_pause(tab):
    tab.send_text('{"type": "play"}')
    frames = [receive(tab, "update") for _ in range(4)]
    steps = [f["steps"] for f in frames]
    assert steps == sorted(steps) and steps[-1] > steps[0] >= 1
    assert all(f["playing"] for f in frames) and all(len(f["boundary"]["values"]) == 4096 for f in frames)
    assert frames[-1]["new_history"] and frames[-1]["new_history"][0][0] == frames[-1]["steps"]
    tab.send_text('{"type": "pause"}')
    tab.send_text('{"type": "neuron_map", "layer": 0, "neuron": 0}')
    last = frames[-1]
    while (message := tab.receive_json())["type"] != "neuron_map":  # frames already on their way
        last = message
    assert last["type"] == "update" and last["playing"] is False
    time.sleep(0.3)
    tab.send_text('{"type": "neuron_map", "layer": 0, "neuron": 0}')
    assert tab.receive_json()["type"] == "neuron_map"  # nothing was trained or sent meanwhile
    tab.send_text('{"type": "step"}')
    after = tab.receive_json()
    assert after["type"] == "update" and after["steps"] == last["steps"] + 1


def test_steps_lower_the_loss_and_reset_starts_over(tab):
    losses = [ask(tab, {"type": "step"}, "update")["loss"] for _ in range(15)]
    assert losses[-1] < losses[0]
    state = ask(tab, {"type": "reset"}, "state")
    assert state["steps"] == 0 and state["history"] == []


def test_dataset_add_point_and_clear_points(tab):
    state = ask(tab, {"type": "dataset", "name": "circles", "noise": 0.05, "points": 60, "seed": 3}, "state")
    assert state["dataset"] == {"name": "circles", "noise": 0.05, "points": 60, "seed": 3, "test_ratio": 0.0}
    assert len(state["X"]) == 60
    assert state["test"] == []  # nothing held out unless asked
    xmin, xmax, ymin, ymax = state["bounds"]
    state = ask(tab, {"type": "add_point", "x": (xmin + xmax) / 2, "y": ymax - 0.01, "label": 0}, "state")
    assert len(state["X"]) == 61 and state["y"][-1] == 0
    message = ask(tab, {"type": "add_point", "x": xmax + 5, "y": 0, "label": 1}, "error")["message"]
    assert "lies outside the map" in message
    state = ask(tab, {"type": "clear_points"}, "state")
    assert state["X"] == [] and state["accuracy"] is None
    assert "no points to train on" in ask(tab, {"type": "play"}, "error")["message"]
    assert "no points to train on" in ask(tab, {"type": "step"}, "error")["message"]


@pytest.mark.parametrize("name", ["moons", "circles", "xor", "spiral", "blobs"])
def test_every_dataset(tab, name):
    state = ask(tab, {"type": "dataset", "name": name, "noise": 0.1, "points": 40, "seed": 0}, "state")
    assert len(state["X"]) == 40 and set(state["y"]) == {0, 1}


def test_config_rebuilds_the_network_only_when_its_shape_changes(tab):
    config = {"type": "config", "hidden": [4], "activation": "tanh", "loss": "bce_with_logits", "optimizer": "adam",
              "lr": 0.05, "batch_size": 10, "l2": 0.0, "seed": 2}
    state = ask(tab, config, "state")
    assert state["network"]["sizes"] == [2, 4, 1] and state["network"]["activation"] == "tanh"
    for _ in range(3):
        ask(tab, {"type": "step"}, "update")
    same_shape = ask(tab, dict(config, lr=0.01, optimizer="rmsprop", loss="mse", batch_size=None), "state")
    assert same_shape["steps"] == 3 and same_shape["config"]["optimizer"] == "rmsprop"
    bce = ask(tab, dict(config, loss="bce"), "state")  # a sigmoid output: a new network
    assert bce["steps"] == 0 and bce["network"]["output_activation"] == "sigmoid"
    assert ask(tab, {"type": "step"}, "update")["steps"] == 1
    linear = ask(tab, dict(config, hidden=[]), "state")
    assert linear["network"]["sizes"] == [2, 1]


def test_set_param_changes_the_weight_and_the_boundary(tab):
    before = ask(tab, {"type": "step"}, "update")
    frame = ask(tab, {"type": "set_param", "name": "layers.2.neurons.0.b", "value": 50.0}, "update")
    assert frame["network"]["layers"][2]["b"][0] == 50.0
    assert frame["boundary"]["values"] != before["boundary"]["values"]
    assert all(v > 0 for v in frame["boundary"]["values"])  # a huge bias: class 1 everywhere
    frame = ask(tab, {"type": "set_param", "name": "layers.0.neurons.3.w.1", "value": -0.25}, "update")
    assert frame["network"]["layers"][0]["w"][3][1] == -0.25
    assert "has no parameter 'layers.9.neurons.0.b'" in ask(
        tab, {"type": "set_param", "name": "layers.9.neurons.0.b", "value": 1}, "error")["message"]


def test_neuron_map(tab):
    m = ask(tab, {"type": "neuron_map", "layer": 1, "neuron": 5}, "neuron_map")
    assert m["layer"] == 1 and m["neuron"] == 5 and len(m["values"]) == m["size"] ** 2
    assert max(abs(v) for v in m["values"]) in (0, 100)  # scaled to its own largest magnitude
    assert "no neuron L0.n20" in ask(tab, {"type": "neuron_map", "layer": 0, "neuron": 20}, "error")["message"]


def test_sample_draws_the_loss_graph_and_steps_through_it(tab):
    first = ask(tab, {"type": "sample", "index": 7}, "sample")
    assert first["svg"].lstrip().startswith("<?xml") and first["grouping"] == "collapse"  # one box per neuron
    assert first["names"][first["root"]] == "loss" and first["steps"]
    assert "x0" in first["names"] and "x1" in first["names"] and "y" in first["names"]
    # Replaying the recorded edges gives backward()'s gradient for the inputs.
    grads = {}
    for step in first["steps"]:
        for parent, text in step["edges"]:
            grads[parent] = text
    x0 = first["names"].index("x0")
    moved = ask(tab, {"type": "sample", "index": 7, "x": [first["x"][0] + 0.3, first["x"][1]]}, "sample")
    assert moved["svg"] is None  # same shape: the page rewrites the numbers into its drawing
    assert moved["x"][0] == pytest.approx(first["x"][0] + 0.3)
    assert moved["data"][x0] != first["data"][x0]
    assert grads[x0].startswith("grad ")
    assert "there is no point 500" in ask(tab, {"type": "sample", "index": 500}, "error")["message"]


def test_formula_gives_gradients_graph_plot_and_steps(tab):
    reply = ask(tab, {"type": "formula", "text": "tanh(x*w + b)", "values": {"x": 2, "w": -3, "b": 6.8813735870195432},
                      "plot": "w", "range": [-2, 2]}, "formula")
    assert reply["variables"] == ["x", "w", "b"]
    assert reply["gradients"]["x"] == pytest.approx(-1.5) and reply["gradients"]["w"] == pytest.approx(1.0)
    assert reply["output"] == pytest.approx(math.sqrt(0.5))
    assert reply["svg"] and len(reply["steps"]) == 3
    assert reply["plot"]["variable"] == "w" and len(reply["plot"]["xs"]) == 101
    assert reply["plot"]["xs"][0] == -2 and reply["plot"]["xs"][-1] == 2
    w = 2.0  # the plot's df/dx at w=2: tanh'(2*2 + b) * 2
    assert reply["plot"]["grads"]["x"][-1] == pytest.approx((1 - math.tanh(4 + 6.8813735870195432) ** 2) * w)
    again = ask(tab, {"type": "formula", "text": "tanh(x*w + b)", "values": {"x": 1, "w": -3, "b": 6.88},
                      "plot": None, "range": [-4, 4]}, "formula")
    assert again["svg"] is None and again["gradients"]["x"] != reply["gradients"]["x"]


def test_formula_domain_errors_keep_the_variables_for_the_sliders(tab):
    tab.send_text(json.dumps({"type": "formula", "text": "log(x - 2)", "values": {"x": 1}}))
    error = receive(tab, "error")
    assert "log" in error["message"] and "x=1" in error["message"] and error["request"] == "formula"
    variables = receive(tab, "formula_variables")
    assert variables["variables"] == ["x"]
    reply = ask(tab, {"type": "formula", "text": "log(x - 2)", "values": {"x": 3}, "range": [0, 4]}, "formula")
    f = reply["plot"]["f"]
    assert f[0] is None and f[-1] == pytest.approx(math.log(2))  # a gap where log is undefined


@pytest.mark.parametrize("text, expected", [
    ("__import__('os').system('echo pwned')", "only the functions"),
    ("x.__class__", "attribute access"),
    ("open('/etc/passwd')", "unknown function"),
    ("x" + " + x" * 600, "the limit is"),
    ("(" * 60 + "x" + ")" * 60, "brackets"),
    ("2 ** 3", "no variables"),
    ("", "empty"),
])
def test_formulas_are_parsed_safely_with_the_cli_limits(tab, text, expected):
    message = ask(tab, {"type": "formula", "text": text, "values": {}}, "error")["message"]
    assert expected in message


def test_save_is_off_unless_a_folder_was_chosen(tab):
    message = ask(tab, {"type": "save", "name": "m"}, "error")["message"]
    assert "saving is off" in message and "--save-dir" in message


def test_save_writes_an_atomic_model_file_into_the_chosen_folder(tmp_path):
    with TestClient(create_app(save_dir=tmp_path), base_url=BASE) as client:
        with client.websocket_connect(WS, headers=ORIGIN) as ws:
            assert ws.receive_json()["can_save"] is True
            ask(ws, {"type": "step"}, "update")
            saved = ask(ws, {"type": "save", "name": "my-model_1"}, "saved")
            for name in ("../evil", "/etc/passwd", "a.json", "x" * 65, ".hidden", ""):
                assert "the name must be" in ask(ws, {"type": "save", "name": name}, "error")["message"]
    assert Path(saved["path"]) == tmp_path / "my-model_1.json"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my-model_1.json"]
    model = nn.load_model(tmp_path / "my-model_1.json")
    assert model.nouts == [16, 16, 1]


# -- a tab that goes away -----------------------------------------------------------------------


def test_closing_a_playing_tab_stops_its_training_and_frees_it():
    app = create_app()
    playground = app.state.playground
    with TestClient(app, base_url=BASE) as client:
        with client.websocket_connect(WS, headers=ORIGIN) as ws:
            ws.receive_json()
            ws.send_text('{"type": "play"}')
            receive(ws, "update")
            (tab,) = playground.tabs
            session = weakref.ref(tab.session)
            trainer = tab.trainer
            assert session().playing and not trainer.done()
            del tab
        deadline = time.monotonic() + 5
        while (playground.tabs or not trainer.done() or session() is not None) and time.monotonic() < deadline:
            time.sleep(0.05)
            gc.collect()
        assert playground.tabs == set()
        assert trainer.done()
        assert session() is None, "the closed tab's session (its network and data) is still in memory"


# -- from Python ----------------------------------------------------------------------------------


def test_the_launch_model_and_data_start_every_tab(tmp_path):
    model = nn.MLP(2, [3, 1], activation="tanh", output_activation="sigmoid", seed=4)
    X, y = [[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]], [0, 0, 1, -1]
    before = model.state_dict()
    with TestClient(create_app(model, X, y), base_url=BASE) as client:
        for _ in range(2):  # each tab trains its own copy
            with client.websocket_connect(WS, headers=ORIGIN) as ws:
                state = ws.receive_json()
                assert state["dataset"]["name"] == "yours" and state["X"] == X and state["y"] == [0, 0, 1, 0]
                assert state["config"]["loss"] == "bce" and state["network"]["sizes"] == [2, 3, 1]
                assert state["network"]["layers"][0]["b"][1] == round(model.layers[0].neurons[1].b.data, 6)
                assert ask(ws, {"type": "step"}, "update")["steps"] == 1  # each tab starts at step 0
    assert model.state_dict() == before  # the learner's own model is never trained by a tab


@pytest.mark.parametrize("args, message", [
    ((nn.MLP(3, [1]),), "needs MLP(2, [..., 1])"),
    ((nn.MLP(2, [2]),), "needs MLP(2, [..., 1])"),
    ((nn.MLP(2, [33, 1]),), "at most 4 hidden layers of width 32"),
    ((nn.MLP(2, [2, 2, 2, 2, 2, 1]),), "at most 4 hidden layers"),
    ((nn.Neuron(2),), "trains an nn.MLP, not Neuron"),
    ((None, [[0, 0]], None), "give both X and y"),
    ((None, [[0, 0, 0]], [1]), "X[0] should be two finite numbers"),
    ((None, [[0, float("nan")]], [1]), "X[0] should be two finite numbers"),
    ((None, [[0, 0]], [2]), "y[0] should be a class label 0 or 1"),
    ((None, [[0, 0]] * 2001, [0] * 2001), "1 to 2000 points"),
])
def test_what_does_not_fit_the_playground_is_refused_at_launch(args, message):
    with pytest.raises(ValueError) as refused:
        create_app(*args)
    assert message in str(refused.value)


def test_save_dir_must_exist(tmp_path):
    with pytest.raises(ValueError, match="is not an existing folder"):
        create_app(save_dir=tmp_path / "missing")
