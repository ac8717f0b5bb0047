"""Long work never freezes the playground: a training step too big to run at once is done in
chunks with the same result, requests run in slices so other tabs are answered in between, and
the tab limit holds when many tabs connect at once."""

from __future__ import annotations

import asyncio
import copy
import json
from concurrent.futures import ThreadPoolExecutor

import pytest

pytest.importorskip("starlette")
websockets = pytest.importorskip("websockets")

import nn  # noqa: E402
from nn.playground import adapters, choices, training as session_module  # noqa: E402
from nn.playground.server import PlaygroundServer, create_app  # noqa: E402
from nn.playground.session import Session  # noqa: E402
from nn.playground.slices import advance  # noqa: E402

LARGEST = {"type": "config", "hidden": [32, 32, 32, 32], "activation": "tanh", "loss": "hinge", "optimizer": "adam",
           "lr": 0.01, "batch_size": None, "l2": 0.001, "seed": 0}


def weights(model) -> list[float]:
    return [p.data for p in model.parameters()]


@pytest.mark.parametrize("loss", ["hinge", "bce_with_logits", "mse", "bce"])
@pytest.mark.parametrize("l2, l1", [(0.0, 0.0), (0.01, 0.0), (0.0, 0.01), (0.01, 0.003)])
def test_a_step_in_chunks_is_the_step_at_once(loss, l2, l1):
    X, y = nn.make_moons(37, noise=0.1, seed=1)
    targets = choices.targets(loss, [int(t) for t in y])
    model = nn.MLP(2, [6, 5, 1], activation="tanh", output_activation="sigmoid" if loss == "bce" else "linear", seed=2)
    twin = copy.deepcopy(model)
    loss_fn = choices.loss_function(loss)
    config = {"optimizer": "adam", "lr": 0.05}
    optimizer, twin_optimizer = choices.optimizer(config, model.parameters()), choices.optimizer(config, twin.parameters())
    for _ in range(3):
        chunks = adapters.train_step_in_chunks(model, X, targets, loss_fn, optimizer, l2, chunk=5, l1=l1)
        pieces = 0
        while True:
            try:
                next(chunks)
                pieces += 1
            except StopIteration as done:
                chunked_loss = done.value
                break
        assert pieces == 8  # 37 samples, 5 at a time
        whole_loss = adapters.train_step(twin, X, targets, loss_fn, twin_optimizer, l2, l1)
        assert chunked_loss == pytest.approx(whole_loss, rel=1e-12, abs=1e-15)
        assert weights(model) == pytest.approx(weights(twin), rel=1e-9, abs=1e-12)
    assert weights(model) != weights(nn.MLP(2, [6, 5, 1], activation="tanh", seed=2))  # it did train


def test_a_chunked_step_that_diverges_changes_no_parameter():
    model = nn.MLP(2, [3, 1], activation="linear", seed=0)
    model.layers[0].neurons[0].w[0].data = 1e200
    before = weights(model)
    optimizer = choices.optimizer({"optimizer": "sgd", "lr": 0.1}, model.parameters())
    X = [[1e200, 1.0]] * 6
    chunks = adapters.train_step_in_chunks(model, X, [1.0] * 6, choices.loss_function("mse"), optimizer, 0.0, chunk=2)
    with pytest.raises(adapters.DivergedError, match="no parameter was updated"):
        for _ in chunks:
            pass
    assert weights(model) == before


def test_the_largest_network_on_many_points_steps_in_slices():
    session = Session()
    session.handle(dict(LARGEST))
    session.handle({"type": "dataset", "name": "moons", "noise": 0.1, "points": 300, "seed": 0})
    work = session.work({"type": "step"})
    slices = 1
    done, replies = advance(work, 0.02)
    while not done:  # each slice gives the engine's thread back to the other tabs
        slices += 1
        done, replies = advance(work, 0.02)
    assert slices >= 5 and replies[0]["type"] == "update" and replies[0]["steps"] == 1


def test_a_weight_edited_in_the_middle_of_a_step_restarts_its_batch(monkeypatch):
    monkeypatch.setattr(session_module, "WHOLE_STEP_WORK", 0)  # every step in chunks,
    monkeypatch.setattr(session_module, "CHUNK_WORK", 1000)  # of 2 samples (337 parameters)
    session = Session()
    assert session._advance_step(deadline=0.0) is None  # one chunk done, the step not finished
    session.handle({"type": "set_param", "name": "layers.0.neurons.0.b", "value": 0.75})
    twin = copy.deepcopy(session.model)
    twin_optimizer = choices.optimizer(session.config, twin.parameters())
    while (loss := session._advance_step(deadline=0.0)) is None:
        pass
    expected = adapters.train_step(twin, session.X, session._targets, session._loss_fn, twin_optimizer,
                                   session.config["l2"])
    assert loss == pytest.approx(expected, rel=1e-12) and session.steps == 1
    assert weights(session.model) == pytest.approx(weights(twin), rel=1e-9, abs=1e-12)


def test_switching_the_dataset_starts_a_fresh_network_counter_and_curves():
    session = Session()
    fresh = weights(session.model)
    session.playing = True
    while len(session.history) < 2:
        session.train_for(0.0)
    assert session.steps >= 2 and session.history and weights(session.model) != fresh
    state = session.handle({"type": "dataset", "name": "circles", "noise": 0.05, "points": 50, "seed": 2})[0]
    assert state["steps"] == 0 and state["epoch"] == 0 and state["history"] == [] and state["loss"] is None
    assert weights(session.model) == fresh and state["version"] == 2


def test_the_sample_view_is_dropped_when_the_network_or_the_data_change():
    session = Session()
    session.handle({"type": "sample", "index": 4, "x": None})
    assert session.sample.model is not None
    session.handle(dict(LARGEST, hidden=[3]))
    assert session.sample.model is None and session.sample.index is None
    session.handle({"type": "sample", "index": 4, "x": None})
    session.handle({"type": "add_point", "x": 0.0, "y": 0.0, "label": 1})
    assert session.sample.model is None
    # The page cleared its drawing: the same shape is drawn again, not only its numbers sent.
    assert session.handle({"type": "sample", "index": 4, "x": None})[0]["svg"].lstrip().startswith("<?xml")


# -- a live server ------------------------------------------------------------------------------


def in_client_thread(coroutine):
    """Run the clients' event loop in a thread of its own (the main thread may already run one)."""
    with ThreadPoolExecutor(max_workers=1) as clients:
        return clients.submit(asyncio.run, coroutine).result(timeout=300)


def test_twenty_tabs_connecting_at_once_get_sixteen_seats():
    server = PlaygroundServer(create_app(max_tabs=16)).start()
    url, origin = f"ws://127.0.0.1:{server.port}/ws", f"http://127.0.0.1:{server.port}"

    async def tabs():
        sockets = await asyncio.gather(*(websockets.connect(url, origin=origin, max_size=None) for _ in range(20)))
        first = await asyncio.gather(*(ws.recv() for ws in sockets))
        for ws in sockets:
            await ws.close()
        await asyncio.sleep(0.3)  # the server frees the seats
        async with websockets.connect(url, origin=origin, max_size=None) as again:
            after = json.loads(await again.recv())
        return [json.loads(text) for text in first], after

    try:
        first, after = in_client_thread(tabs())
    finally:
        server.stop()
    kinds = [message["type"] for message in first]
    assert kinds.count("state") == 16 and kinds.count("error") == 4
    assert all("already serves 16 tabs" in m["message"] for m in first if m["type"] == "error")
    assert after["type"] == "state"


def test_a_new_drawing_is_handed_out_before_the_steps_are_recorded():
    from concurrent.futures import ThreadPoolExecutor

    from nn.playground.graphs import PendingDrawing

    handed = []
    session = Session()
    work = session.work({"type": "sample", "index": 2, "x": None})
    done, replies = advance(work, float("inf"), on_yield=handed.append)
    assert done and len(handed) == 1 and isinstance(handed[0], PendingDrawing) and replies[0]["svg"] is handed[0]
    with ThreadPoolExecutor(1) as pool:
        handed[0].start(pool, lambda source: "<svg/>" if source.startswith("digraph") else None)
        first = handed[0].layout
        handed[0].start(pool, lambda source: "again")  # started once only
        assert handed[0].layout is first and first.result() == "<svg/>"
    handed[0].settle(first.result())
    # The same shape again: no drawing, nothing handed out.
    again = []
    advance(session.work({"type": "sample", "index": 2, "x": [0.0, 0.0]}), float("inf"), on_yield=again.append)
    assert again == []
