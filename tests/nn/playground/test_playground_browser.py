"""The playground in a real headless Chromium: train, backprop one sample, and the sandbox, each
looked at through a screenshot that must show real content."""

from __future__ import annotations

import io
import json

import pytest

PIL = pytest.importorskip("PIL.Image", reason="pillow reads the screenshots")

from playground_support import open_page, pick_first_point  # noqa: E402


pytestmark = pytest.mark.slow  # a real browser: seconds per test (make test runs them)


def content_of(png: bytes) -> tuple[int, float]:
    """(distinct colours, fraction of near-white pixels) of a screenshot."""
    image = PIL.open(io.BytesIO(png)).convert("RGB")
    colours = image.getcolors(maxcolors=1 << 20)
    pixels = image.width * image.height
    white = sum(count for count, (r, g, b) in colours if min(r, g, b) > 245)
    return len(colours), white / pixels


def assert_not_blank(png: bytes, min_colours: int = 200, max_white: float = 0.9):
    colours, white = content_of(png)
    assert colours >= min_colours, f"only {colours} colours: the screenshot looks blank"
    assert white <= max_white, f"{white:.0%} of the screenshot is white"


def test_press_play_and_the_loss_falls_and_the_boundary_changes(browse, live_server, tmp_path):
    def scenario(page):
        open_page(page, live_server.url)
        assert page.text_content("#stat-step") == "0"
        before = page.evaluate("document.getElementById('boundary').toDataURL()")
        page.click("#play")
        page.wait_for_function("() => Number(document.getElementById('stat-step').textContent) >= 15"
                               " && window.gradwalk.views.train.history.length >= 2", timeout=120_000)
        page.click("#play")  # pause
        history = page.evaluate("window.gradwalk.views.train.history")
        after = page.evaluate("document.getElementById('boundary').toDataURL()")
        shot = page.screenshot()
        return history, before, after, shot, page.locator("#boundary").screenshot(), page.text_content("#play")

    history, before, after, shot, canvas, play_label = browse(scenario)
    (tmp_path / "train.png").write_bytes(shot)
    losses = [row[1] for row in history]  # step, loss, accuracy, test loss, test accuracy
    assert len(losses) >= 2 and losses[-1] < losses[0]
    assert after != before, "the decision boundary did not change while training"
    assert "play" in play_label
    assert_not_blank(shot)
    assert_not_blank(canvas, min_colours=100, max_white=0.6)  # the map is shaded, not empty


def test_click_a_point_and_step_through_its_backward_pass(browse, live_server, tmp_path):
    def scenario(page):
        open_page(page, live_server.url)
        page.click("#tab-backprop")
        pick_first_point(page)
        start = page.text_content("#bp-counter")
        grads_before = page.evaluate("[...document.querySelectorAll('#bp-graph text')].filter(t => t.textContent.startsWith('grad ')).map(t => t.textContent)")
        for _ in range(3):
            page.click("#bp-next")
        counter = page.text_content("#bp-counter")
        header = page.text_content("#bp-header")
        text = page.text_content("#bp-step-text")
        grads_after = page.evaluate("[...document.querySelectorAll('#bp-graph text')].filter(t => t.textContent.startsWith('grad ')).map(t => t.textContent)")
        current = page.locator("#bp-graph g.node.gw-current").count()
        page.keyboard.press("ArrowRight")
        counter_key = page.text_content("#bp-counter")
        # Move the sample's first input: the x0 box's data changes.
        data_before = page.evaluate("window.gradwalk.views.backprop.sample.data")
        page.evaluate("""() => { const s = document.getElementById('bp-x0');
            s.value = Number(s.min) + 0.2 * (Number(s.max) - Number(s.min)); s.dispatchEvent(new Event('input')); }""")
        page.wait_for_function(f"() => JSON.stringify(window.gradwalk.views.backprop.sample.data) !== {json.dumps(json.dumps(data_before))}")
        x1 = page.evaluate("(() => { const r = window.gradwalk.views.backprop.sample; return r.data[r.names.indexOf('x0')]; })()")
        shot = page.screenshot()
        return start, grads_before, counter, header, text, grads_after, current, counter_key, x1, shot

    start, grads_before, counter, header, text, grads_after, current, counter_key, x1, shot = browse(scenario)
    (tmp_path / "backprop.png").write_bytes(shot)
    assert start.startswith("step 0 / ")
    total = int(start.split("/ ")[1])
    assert total > 10
    assert counter == f"step 3 / {total}" and counter_key == f"step 4 / {total}"
    assert header.startswith("step 3 of") or header.startswith("step 3/")
    assert "->" in text and "loss" in text
    assert sum(g == "grad ?" for g in grads_after) < sum(g == "grad ?" for g in grads_before)
    assert current == 1
    assert x1.startswith("data ")
    assert_not_blank(shot)


def test_drag_a_sandbox_slider_and_the_grad_text_changes(browse, live_server, tmp_path):
    def scenario(page):
        open_page(page, live_server.url)
        page.click("#tab-sandbox")
        page.wait_for_function("() => document.getElementById('sandbox-grads').textContent.includes('∂f/∂x = -1.503')")
        before = page.text_content("#sandbox-grads")
        svg_before = page.evaluate("[...document.querySelectorAll('#sb-graph text')].map(t => t.textContent)")
        slider = page.locator("label[data-var=x] input[type=range]")
        box = slider.bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] / 2)  # the thumb, x = 2 of [-5, 5]
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.55, box["y"] + box["height"] / 2, steps=8)
        page.mouse.up()
        page.wait_for_function(f"() => document.getElementById('sandbox-grads').textContent !== {json.dumps(before)}")
        page.wait_for_timeout(300)  # the newest drag position's answer
        after = page.text_content("#sandbox-grads")
        svg_after = page.evaluate("[...document.querySelectorAll('#sb-graph text')].map(t => t.textContent)")
        value = page.input_value("label[data-var=x] input[type=number]")
        # A formula the parser refuses: the error is shown in the page, nothing crashes.
        page.fill("#formula", "__import__('os').system('ls')")
        page.press("#formula", "Enter")
        page.wait_for_selector("#error:not([hidden])")
        error = page.text_content("#error-text")
        shot = page.screenshot()
        return before, after, svg_before, svg_after, value, error, shot

    before, after, svg_before, svg_after, value, error, shot = browse(scenario)
    (tmp_path / "sandbox.png").write_bytes(shot)
    assert after != before and "∂f/∂x" in after
    assert float(value) < 2.0
    changed = [(a, b) for a, b in zip(svg_before, svg_after) if a != b]
    assert any(a.startswith("grad ") for a, _ in changed) and any(a.startswith("data ") for a, _ in changed)
    assert "only the functions" in error
    assert_not_blank(shot, max_white=0.95)


def test_a_refused_setting_is_shown_in_the_page(browse, live_server):
    def scenario(page):
        open_page(page, live_server.url)
        page.fill("#hidden", "16, 64")
        page.press("#hidden", "Tab")
        page.wait_for_selector("#error:not([hidden])")
        error = page.text_content("#error-text")
        page.click("#step")  # the server is fine and so is this tab
        page.wait_for_function("() => document.getElementById('stat-step').textContent === '1'")
        return error

    assert "a hidden layer width must be from 1 to 32, got 64" in browse(scenario)


def test_hover_a_neuron_shows_its_own_map_and_editing_a_weight_moves_the_boundary(browse, live_server):
    def scenario(page):
        open_page(page, live_server.url)
        caption = page.text_content("#boundary-caption")
        before = page.evaluate("document.getElementById('boundary').toDataURL()")
        page.hover("#network g.neuron >> nth=3")
        page.wait_for_function("() => document.getElementById('boundary-caption').textContent.startsWith('L0.n3: this neuron')")
        neuron = page.evaluate("document.getElementById('boundary').toDataURL()")
        page.mouse.move(5, 5)
        page.wait_for_function(f"() => document.getElementById('boundary-caption').textContent === {json.dumps(caption)}")
        page.click("#network g.neuron >> nth=-1 >> circle")  # the output neuron: edit its bias
        name = page.text_content("#weight-name")
        page.fill("#weight-value", "25")
        page.press("#weight-value", "Enter")
        page.wait_for_function("() => window.gradwalk.views.train.state.network.layers[2].b[0] === 25")
        edited = page.evaluate("document.getElementById('boundary').toDataURL()")
        return before, neuron, edited, name

    before, neuron, edited, name = browse(scenario)
    assert neuron != before and edited != before
    assert name == "L2.n0.b"
