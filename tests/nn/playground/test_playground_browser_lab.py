"""The playground as a learner's lab, in a real headless Chromium: one name for each thing, a
default sample that teaches, the collapsed sample graph, and the Train view's extra controls."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from playground_support import open_page

pytestmark = pytest.mark.slow  # a real browser: seconds per test

SHOTS = Path(os.environ.get("GRADWALK_SHOTS", "")) if os.environ.get("GRADWALK_SHOTS") else None


def keep(page, name: str) -> None:
    """Save a screenshot where GRADWALK_SHOTS points (for a person to look at), if it is set."""
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_the_network_diagram_and_editor_use_the_projects_names(browse, live_server):
    def scenario(page):
        open_page(page, live_server.url)
        inputs = page.evaluate("[...document.querySelectorAll('#network g.input text')].map(t => t.textContent)")
        edge = page.evaluate("document.querySelector('#network line.edge-hit title').textContent")
        neuron = page.evaluate("document.querySelectorAll('#network g.neuron title')[3].textContent")
        page.dispatch_event("#network line.edge-hit >> nth=1", "click")
        name, key = page.text_content("#weight-name"), page.get_attribute("#weight-name", "title")
        page.hover("#network g.neuron >> nth=3")
        page.wait_for_function("() => document.getElementById('boundary-caption').textContent.startsWith('L0.n3')")
        return inputs, edge, neuron, name, key

    inputs, edge, neuron, name, key = browse(scenario)
    assert inputs == ["x0", "x1"]
    assert edge == "L0.n0.w0: the weight from x0 into L0.n0"
    assert neuron.startswith("L0.n3:") and "L0.n3.b" in neuron
    assert name == "L0.n0.w1" and key == "state_dict() key: layers.0.neurons.0.w.1"


def test_backprop_opens_on_a_point_that_teaches_collapsed_and_expands_on_demand(browse, live_server):
    def scenario(page):
        open_page(page, live_server.url)
        for _ in range(3):
            page.click("#step")
        page.wait_for_function("() => document.getElementById('stat-step').textContent === '3'")
        page.click("#tab-backprop")  # no click on a point: the page asks for one that teaches
        page.wait_for_selector("#bp-graph svg", timeout=60_000)
        sample = page.evaluate("(() => { const s = window.gradwalk.views.backprop.sample; "
                               "return {index: s.index, grouping: s.grouping, loss: s.data[s.root], why: s.why_zero}; })()")
        boxes = page.locator("#bp-graph g.node").count()
        info = page.text_content("#bp-info")
        # Step to a value inside a neuron: that neuron's collapsed box lights up.
        page.click("#bp-last")
        lit = page.evaluate("[...document.querySelectorAll('#bp-graph g.node.gw-current')].map(g => g.querySelector('text').textContent)")
        header = page.text_content("#bp-header")
        keep(page, "backprop-collapsed")
        page.check("#bp-expand")
        page.wait_for_function(f"() => document.querySelectorAll('#bp-graph g.node').length > {boxes}", timeout=60_000)
        expanded = page.evaluate("window.gradwalk.views.backprop.sample.grouping")
        keep(page, "backprop-expanded")
        return sample, boxes, info, lit, header, expanded

    sample, boxes, info, lit, header, expanded = browse(scenario)
    assert sample["grouping"] == "collapse" and sample["why"] is None
    assert float(sample["loss"].split()[1]) > 0
    assert boxes < 60 and "one box per neuron" in info
    # The last step stands on a first-layer neuron's pre-activation: #k = L0.nj.w0*x0 + ...
    assert lit == [re.search(r"(L0\.n\d+)\.w0\*x0", header).group(1)]
    assert expanded == "cluster"


def test_a_point_with_zero_loss_says_why(browse, live_server):
    def scenario(page):
        open_page(page, live_server.url)
        page.click("#play")
        page.wait_for_function("() => document.getElementById('stat-accuracy').textContent === '100.0%'", timeout=120_000)
        page.click("#play")
        page.click("#tab-backprop")
        page.wait_for_selector("#bp-graph svg", timeout=60_000)
        taught = page.evaluate("(() => { const s = window.gradwalk.views.backprop.sample; return [s.data[s.root], "
                               "document.getElementById('bp-why-zero').hidden]; })()")
        for index in range(40):  # hinge: most points of a trained model have a loss of 0
            page.evaluate(f"window.gradwalk.views.backprop.ask({index})")
            page.wait_for_function(f"() => window.gradwalk.views.backprop.sample.index === {index}")
            loss = page.evaluate("(() => { const s = window.gradwalk.views.backprop.sample; return s.data[s.root]; })()")
            if loss == "data 0":
                break
        keep(page, "backprop-zero-loss")
        return taught, loss, page.is_visible("#bp-why-zero"), page.text_content("#bp-why-zero")

    taught, loss, shown, text = browse(scenario)
    # The default sample is the point with the largest loss: it teaches and needs no excuse, unless
    # training (through the tape, thousands of steps a second) has left every loss at 0.
    assert taught[1] is (taught[0] != "data 0")
    assert loss == "data 0" and shown
    assert text.startswith("Its hinge loss is 0: y·out = ")
    assert ("points have a loss above 0" in text) is (taught[0] != "data 0")  # else: "None of the ... points"
    assert ("None of the 100 points has a loss above 0" in text) is (taught[0] == "data 0")


TOP_TWO_SHARE = """(() => {
    const c = document.getElementById('boundary'), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const counts = new Map();
    for (let i = 0; i < d.length; i += 4) { const k = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2]; counts.set(k, (counts.get(k) || 0) + 1); }
    const top = [...counts.values()].sort((a, b) => b - a);
    return (top[0] + top[1]) / (c.width * c.height);
})()"""


def test_axes_discretize_and_the_epoch_counter(browse, live_server):
    def scenario(page):
        open_page(page, live_server.url)
        ticks = page.evaluate("window.gradwalk.views.train.ticks")
        bounds = page.evaluate("window.gradwalk.views.train.state.bounds")
        smooth = page.evaluate(TOP_TWO_SHARE)
        page.check("#discretize")
        discrete = page.evaluate(TOP_TWO_SHARE)
        keep(page, "train-discretized")
        page.uncheck("#discretize")
        back = page.evaluate(TOP_TWO_SHARE)
        page.fill("#batch", "10")
        page.press("#batch", "Tab")
        page.wait_for_function("() => window.gradwalk.views.train.state.config.batch_size === 10")
        epochs = []
        for _ in range(11):
            steps = int(page.text_content("#stat-step"))
            page.click("#step")
            page.wait_for_function(f"() => document.getElementById('stat-step').textContent === '{steps + 1}'")
            epochs.append(int(page.text_content("#stat-epoch")))
        return ticks, bounds, smooth, discrete, back, epochs

    ticks, bounds, smooth, discrete, back, epochs = browse(scenario)
    xmin, xmax, ymin, ymax = bounds
    assert 3 <= len(ticks["x"]) <= 8 and all(xmin <= t <= xmax for t in ticks["x"]) and 0 in ticks["x"]
    assert 3 <= len(ticks["y"]) <= 8 and all(ymin <= t <= ymax for t in ticks["y"]) and 0 in ticks["y"]
    assert discrete > 0.85 and discrete > smooth + 0.1 and back == smooth
    # 100 points in batches of 10: steps 1-10 are epoch 1, step 11 starts epoch 2.
    assert epochs == [1] * 10 + [2]


def test_the_whole_setup_is_kept_in_the_url_and_a_link_reproduces_it(browse, live_server):
    setup = ("#dataset=circles&noise=0.05&points=60&data-seed=4&hidden=4,3&activation=tanh&loss=bce_with_logits"
             "&optimizer=adam&lr=0.03&batch=10&l2=0&l1=0.001&model-seed=2&discretize=1")
    settled = ("() => { const s = window.gradwalk && window.gradwalk.views.train.state; return s && s.dataset.name === 'circles' && "
               "s.config.lr === LR && s.network.sizes.join() === '2,4,3,1'; }")

    def scenario(page):
        page.goto(live_server.url + setup)
        page.wait_for_function(settled.replace("LR", "0.03"), timeout=30_000)
        first = page.evaluate("(() => { const s = window.gradwalk.views.train.state; return {dataset: s.dataset, config: s.config, X: s.X}; })()")
        discretized = page.is_checked("#discretize")
        page.fill("#lr", "0.2")
        page.press("#lr", "Tab")
        page.wait_for_function("() => location.hash.includes('lr=0.2')")
        link = page.evaluate("location.hash")
        other = page.context.new_page()
        other.goto(live_server.url + link)
        other.wait_for_function(settled.replace("LR", "0.2"), timeout=30_000)
        second = other.evaluate("(() => { const s = window.gradwalk.views.train.state; return {dataset: s.dataset, config: s.config, X: s.X, network: s.network}; })()")
        network = page.evaluate("window.gradwalk.views.train.state.network")
        # A refused value in a link: the error shows and the page keeps the server's setup.
        bad = page.context.new_page()
        bad.goto(live_server.url + "#hidden=40")
        bad.wait_for_selector("#error:not([hidden])")
        bad.wait_for_function("() => window.gradwalk.views.train.state !== null")
        refused = bad.text_content("#error-text"), bad.evaluate("window.gradwalk.views.train.state.network.sizes")
        return first, discretized, link, second, network, refused

    first, discretized, link, second, network, refused = browse(scenario)
    assert first["dataset"] == {"name": "circles", "noise": 0.05, "points": 60, "seed": 4, "test_ratio": 0}
    assert first["config"] == {"hidden": [4, 3], "activation": "tanh", "loss": "bce_with_logits", "optimizer": "adam",
                               "lr": 0.03, "batch_size": 10, "l2": 0.0, "l1": 0.001, "seed": 2, "features": ["x0", "x1"]}
    assert discretized and "discretize=1" in link and "hidden=4,3" in link
    assert second["config"] == dict(first["config"], lr=0.2) and second["X"] == first["X"]
    assert second["network"] == network  # the same data, the same initial weights
    assert "a hidden layer width must be from 1 to 32, got 40" in refused[0] and refused[1] == [2, 16, 16, 1]


CENTRE = """(i) => { const v = window.gradwalk.views.train, c = document.getElementById('boundary'), [xmin, xmax, ymin, ymax] = v.state.bounds;
    const px = Math.round((v.state.X[i][0] - xmin) / (xmax - xmin) * c.width), py = Math.round((ymax - v.state.X[i][1]) / (ymax - ymin) * c.height);
    return [...c.getContext('2d').getImageData(px, py, 1, 1).data.slice(0, 3)]; }"""


def test_train_test_split_with_test_figures_and_show_test_data(browse, live_server):
    def scenario(page):
        open_page(page, live_server.url)
        assert page.is_hidden("#test-stats")
        page.eval_on_selector("#test-ratio", "(el) => { el.value = 0.5; el.dispatchEvent(new Event('input')); "
                                             "el.dispatchEvent(new Event('change')); }")
        page.wait_for_function("() => window.gradwalk.views.train.state.test.length > 0")
        shown_ratio = page.text_content("#test-ratio-value")
        state = page.evaluate("(() => { const s = window.gradwalk.views.train.state; return {test: s.test, n: s.X.length, ratio: s.dataset.test_ratio}; })()")
        for _ in range(3):
            page.click("#step")
        page.wait_for_function("() => document.getElementById('stat-step').textContent === '3'")
        figures = page.text_content("#stat-test-loss"), page.text_content("#stat-test-accuracy")
        held, kept = state["test"][0], next(i for i in range(state["n"]) if i not in state["test"])
        shown = page.evaluate(f"({CENTRE})({held})"), page.evaluate(f"({CENTRE})({kept})")
        keep(page, "train-test-split")
        page.uncheck("#show-test")
        hidden = page.evaluate(f"({CENTRE})({held})"), page.evaluate(f"({CENTRE})({kept})")
        return shown_ratio, state, figures, shown, hidden, page.evaluate("location.hash")

    shown_ratio, state, figures, shown, hidden, link = browse(scenario)
    assert shown_ratio == "50%" and state["ratio"] == 0.5 and 25 < len(state["test"]) < 75
    assert figures[0] not in ("–", "") and figures[1].endswith("%")
    white = [255, 255, 255]
    assert shown[0] == white and shown[1] != white  # a test point is hollow, a training point filled
    assert hidden[0] != white and hidden[1] == shown[1]  # hidden: the map shows through; training points stay
    assert "test-ratio=0.5" in link and "show-test=0" in link


def test_every_neurons_thumbnail_is_drawn_in_the_network(browse, live_server):
    def scenario(page):
        open_page(page, live_server.url)
        page.click("#step")
        page.wait_for_function("() => document.querySelectorAll('#thumbnails canvas').length === 33")
        page.wait_for_function("""() => [...document.querySelectorAll('#thumbnails canvas')].every((c) => {
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            for (let i = 0; i < d.length; i += 4) if (d[i] !== 255 || d[i + 1] !== 255 || d[i + 2] !== 255) return true;
            return false; })""")
        # A thumbnail sits on its neuron's circle.
        centre = page.evaluate("""(() => { const c = document.querySelector('#network g.neuron circle'), t = document.querySelector('#thumbnails canvas');
            const a = c.getBoundingClientRect(), b = t.getBoundingClientRect();
            return [a.x + a.width / 2 - (b.x + b.width / 2), a.y + a.height / 2 - (b.y + b.height / 2)]; })()""")
        keep(page, "train-thumbnails")
        page.fill("#hidden", "3")
        page.press("#hidden", "Tab")
        page.wait_for_function("() => document.querySelectorAll('#thumbnails canvas').length === 4")
        page.uncheck("#show-thumbnails")
        hidden = page.locator("#thumbnails canvas").count()
        return centre, hidden

    centre, hidden = browse(scenario)
    assert abs(centre[0]) <= 1 and abs(centre[1]) <= 1
    assert hidden == 0


def test_a_regression_data_set_trains_with_mse(browse, live_server):
    def scenario(page):
        open_page(page, live_server.url)
        page.select_option("#dataset", "gauss")
        page.wait_for_function("() => window.gradwalk.views.train.state.regression === true")
        loss_choice = page.input_value("#loss")
        page.click("#play")
        # a frame carries the mean loss since the last one: wait for several, not just for 60 steps
        page.wait_for_function("() => Number(document.getElementById('stat-step').textContent) >= 60"
                               " && window.gradwalk.views.train.history.length >= 4", timeout=120_000)
        page.click("#play")
        history = page.evaluate("window.gradwalk.views.train.history")
        accuracy, caption = page.text_content("#stat-accuracy"), page.text_content("#boundary-caption")
        keep(page, "train-regression")
        page.select_option("#loss", "hinge")  # refused: the page goes back to mse
        page.wait_for_selector("#error:not([hidden])")
        error, back = page.text_content("#error-text"), page.input_value("#loss")
        return loss_choice, history, accuracy, caption, error, back

    loss_choice, history, accuracy, caption, error, back = browse(scenario)
    assert loss_choice == "mse" and accuracy == "–" and "output over the plane" in caption
    assert history[-1][1] < history[0][1] / 2  # the squared error falls
    assert "fitted with mse" in error and back == "mse"


def test_feature_columns_feed_the_network(browse, live_server):
    def scenario(page):
        open_page(page, live_server.url)
        page.select_option("#dataset", "circles")
        page.wait_for_function("() => window.gradwalk.views.train.state.dataset.name === 'circles'")
        page.check("#features input[value='x0²']")
        page.wait_for_function("() => window.gradwalk.views.train.state.network.sizes[0] === 3")
        page.check("#features input[value='x1²']")
        page.uncheck("#features input[value='x0']")
        page.uncheck("#features input[value='x1']")
        page.wait_for_function("() => window.gradwalk.views.train.state.config.features.join() === 'x0²,x1²'")
        inputs = page.evaluate("[...document.querySelectorAll('#network g.input text')].map(t => t.textContent)")
        link = page.evaluate("location.hash")
        page.click("#play")
        page.wait_for_function("() => Number(document.getElementById('stat-step').textContent) >= 40", timeout=120_000)
        page.click("#play")
        keep(page, "train-features")
        page.uncheck("#features input[value='x0²']")
        page.wait_for_function("() => window.gradwalk.views.train.state.config.features.join() === 'x1²'")
        # Nothing left: refused, and the box comes back (too fast for a click to see it go).
        page.eval_on_selector("#features input[value='x1²']", "(b) => { b.checked = false; b.dispatchEvent(new Event('change')); }")
        page.wait_for_selector("#error:not([hidden])")
        error = page.text_content("#error-text")
        back = page.evaluate("[...document.querySelectorAll('#features input')].filter(b => b.checked).map(b => b.value)")
        return inputs, link, error, back

    inputs, link, error, back = browse(scenario)
    assert inputs == ["x0²", "x1²"] and "features=x0%C2%B2,x1%C2%B2" in link
    assert "features must be a non-empty list" in error and back == ["x1²"]
