"""Issue 19's first fixes, in a real Chromium: a refused value goes back to the server's value,
visibly, and the next valid value works, for every control; the sample view does not go stale
when the network or the data change; switching the dataset starts over."""

from __future__ import annotations

import json

import pytest

from playground_support import open_page, pick_first_point

pytestmark = pytest.mark.slow  # a real browser: seconds per test

SET = "(el, v) => { el.value = v; el.dispatchEvent(new Event('change')); }"
STATE = "window.gradwalk.views.train.state"

# control, a value the server refuses, the words of its refusal, a valid value, and how the
# server's state shows that the valid value was taken.
CONTROLS = [
    ("#noise", "5", "noise must lie in [0, 2], got 5", "0.3", f"{STATE}.dataset.noise === 0.3"),
    ("#points", "5000", "points must be from 4 to 2000, got 5000", "50", f"{STATE}.X.length === 50"),
    ("#data-seed", "-1", "seed must be from 0 to", "3", f"{STATE}.dataset.seed === 3"),
    ("#hidden", "40", "a hidden layer width must be from 1 to 32, got 40", "4",
     f"{STATE}.network.sizes.join() === '2,4,1'"),
    ("#lr", "20", "lr must lie in (0, 10], got 20", "0.5", f"{STATE}.config.lr === 0.5"),
    ("#batch", "0", "batch_size must be from 1 to 2000, got 0", "10", f"{STATE}.config.batch_size === 10"),
    ("#l2", "2", "l2 must lie in [0, 1], got 2", "0.01", f"{STATE}.config.l2 === 0.01"),
    ("#l1", "3", "l1 must lie in [0, 1], got 3", "0.002", f"{STATE}.config.l1 === 0.002"),
    ("#model-seed", "-1", "seed must be from 0 to", "5", f"{STATE}.config.seed === 5"),
]


def refuse_then_accept(page, selector, bad, good, accepted):
    """Type `bad`: the control must show its old value again, marked; then `good` must be taken."""
    before = page.input_value(selector)
    page.eval_on_selector(selector, SET, bad)
    page.wait_for_function(f"""() => {{ const el = document.querySelector({json.dumps(selector)});
        return el.value === {json.dumps(before)} && el.classList.contains('refused'); }}""", timeout=20_000)
    error = page.text_content("#error-text")
    page.eval_on_selector(selector, SET, good)
    page.wait_for_function(f"() => {accepted}", timeout=20_000)
    return before, error, page.input_value(selector)


def test_every_control_puts_a_refused_value_back_and_takes_the_next(browse, live_server):
    def scenario(page):
        open_page(page, live_server.url)
        results = {}
        for selector, bad, _, good, accepted in CONTROLS:
            results[selector] = refuse_then_accept(page, selector, bad, good, accepted)
        # The example: hidden 40 refused, then 4 and tanh: the network is 2-4-1 tanh.
        page.select_option("#activation", "tanh")
        page.wait_for_function(f"() => {STATE}.network.activation === 'tanh' && {STATE}.network.sizes.join() === '2,4,1'")
        # A weight: 1e7 is over the limit of 1e6.
        page.click("#network line.edge-hit >> nth=0", force=True)
        results["weight"] = refuse_then_accept(page, "#weight-value", "1e7", "2",
                                               f"{STATE}.network.layers[0].w[0][0] === 2")
        # A sandbox variable: 1e16 is over the limit of 1e15.
        page.click("#tab-sandbox")
        number = "label[data-var=x] input[type=number]"
        page.wait_for_selector(number)
        results["x"] = refuse_then_accept(page, number, "1e16", "1.5",
                                          "window.gradwalk.views.sandbox.accepted.x === 1.5")
        # A formula the parser refuses, then a valid one.
        page.fill("#formula", "x +")
        page.press("#formula", "Enter")
        page.wait_for_selector("#error:not([hidden])")
        formula_error = page.text_content("#error-text")
        page.fill("#formula", "x*x*y")
        page.press("#formula", "Enter")
        page.wait_for_function("() => document.getElementById('sandbox-grads').textContent.includes('∂f/∂y')")
        max_length = page.get_attribute("#formula", "maxlength")
        return results, formula_error, max_length

    results, formula_error, max_length = browse(scenario)
    for selector, _, words, good, _ in CONTROLS:
        before, error, after = results[selector]
        assert words in error, (selector, error)
        assert after == good, (selector, after)
    assert "value must lie in [-1e+06, 1e+06], got 1e+07" in results["weight"][1]
    assert "the value of x must lie in" in results["x"][1]
    assert formula_error and max_length == "1000"


@pytest.mark.parametrize("change", ["network", "data"])
def test_the_sample_view_clears_when_the_network_or_the_data_change(browse, live_server, change):
    def scenario(page):
        open_page(page, live_server.url)
        page.click("#tab-backprop")
        pick_first_point(page)
        page.click("#bp-next")
        old_names = page.evaluate("window.gradwalk.views.backprop.sample.names.length")
        page.click("#tab-train")
        if change == "network":
            page.eval_on_selector("#hidden", SET, "3")
            page.wait_for_function(f"() => {STATE}.network.sizes.join() === '2,3,1'")
        else:
            page.eval_on_selector("#points", SET, "30")
            page.wait_for_function(f"() => {STATE}.X.length === 30")
        # The (hidden) view is cleared at once, and its stepper has nothing left to step.
        placeholder = page.text_content("#bp-graph")
        svgs = page.locator("#bp-graph svg").count()
        page.evaluate("window.gradwalk.views.backprop.stepper.key({key: 'ArrowRight', preventDefault() {}})")
        counter, info = page.text_content("#bp-counter"), page.text_content("#bp-info")
        # Shown again, it opens on a point of the new network or data, as on a first visit.
        page.click("#tab-backprop")
        page.wait_for_function("() => window.gradwalk.views.backprop.sample !== null", timeout=60_000)
        page.wait_for_selector("#bp-graph svg", timeout=60_000)
        new_names = page.evaluate("window.gradwalk.views.backprop.sample.names.length")
        return placeholder, svgs, counter, info, old_names, new_names

    placeholder, svgs, counter, info, old_names, new_names = browse(scenario)
    assert "The network or the data changed" in placeholder and svgs == 0
    assert counter == "–" and info == "No sample chosen yet."
    if change == "network":
        assert new_names < old_names  # the new, smaller network's graph
    else:
        assert new_names == old_names


def test_switching_the_dataset_resets_the_model_the_step_counter_and_the_curves(browse, live_server):
    def scenario(page):
        open_page(page, live_server.url)
        page.click("#play")
        page.wait_for_function("() => Number(document.getElementById('stat-step').textContent) >= 5", timeout=60_000)
        page.click("#play")
        page.wait_for_function("() => !window.gradwalk.views.train.playing")
        trained = page.evaluate(f"{STATE}.network.layers[0].w[0][0]")
        page.select_option("#dataset", "circles")
        page.wait_for_function(f"() => {STATE}.dataset.name === 'circles'")
        return (trained, page.evaluate(f"{STATE}.network.layers[0].w[0][0]"), page.text_content("#stat-step"),
                page.text_content("#stat-loss"), page.evaluate("window.gradwalk.views.train.history.length"))

    trained, fresh, step, loss, history = browse(scenario)
    assert step == "0" and loss == "–" and history == 0
    assert fresh != trained  # a new network, as at the start


def test_a_graph_too_large_to_lay_out_in_time_says_so_and_still_steps(browse, tmp_path):
    from nn.playground.server import PlaygroundServer, create_app

    server = PlaygroundServer(create_app(layout_seconds=1.0)).start()

    def scenario(page):
        open_page(page, server.url)
        page.click("#tab-sandbox")
        page.wait_for_selector("#sb-graph svg")
        page.fill("#formula", "+".join(["x"] * 90))
        page.press("#formula", "Enter")
        page.wait_for_selector("#sb-graph .drawing-problem", timeout=30_000)
        note, grads = page.text_content("#sb-graph"), page.text_content("#sandbox-grads")
        counter = page.text_content("#sb-counter")
        page.click("#sb-prev")
        header = page.text_content("#sb-header")
        page.locator("label[data-var=x] input[type=number]").fill("2")
        page.locator("label[data-var=x] input[type=number]").dispatch_event("change")
        page.wait_for_function("() => document.getElementById('sandbox-grads').textContent.startsWith('f = 180')")
        return note, grads, counter, header, page.locator("#sb-graph svg").count(), page.screenshot()

    try:
        note, grads, counter, header, svgs, shot = browse(scenario)
    finally:
        server.stop()
    (tmp_path / "too-large.png").write_bytes(shot)
    assert note == ("the graph is too large to lay out in 1 s; showing the steps and the numbers without the drawing")
    assert "∂f/∂x = 90" in grads and counter == "step 89 / 89" and header.startswith("step 88 of 89")
    assert svgs == 0
