"""What a notebook shows for a step, a step table, a gradcheck report and a training History."""

from __future__ import annotations

from engine import Value, compare_gradients, gradcheck_table


def test_a_step_and_a_table_show_their_own_text_escaped():
    x = Value(2.0, "<x>")
    out = x * x
    out.label = "o&"
    steps = out.backward_steps()
    step = next(steps)
    html = step._repr_html_()
    assert html.startswith("<pre>") and "&lt;x&gt;" in html and "<x>" not in html and "o&amp;" in html
    assert steps.table()._repr_html_() == "<pre>" + str(steps.table()).replace("&", "&amp;").replace("<", "&lt;") \
        .replace(">", "&gt;").replace('"', "&quot;").replace("'", "&#x27;") + "</pre>"


def test_a_gradcheck_report_marks_failing_rows_in_red():
    rows = compare_gradients(lambda v: v.relu(), 0.0)  # on the kink: finite differences measure neither side
    report = gradcheck_table(rows)
    assert isinstance(report, str) and report == str(report)
    html = report._repr_html_()
    assert ("color:#c92a2a" in html) == ("<-- FAIL" in report)
    ok = gradcheck_table(compare_gradients(lambda v: v * v, 3.0))
    assert "color:#c92a2a" not in ok._repr_html_() and "gradcheck passed" in ok._repr_html_()


def test_a_history_shows_its_numbers_and_a_curve():
    from nn import History

    assert History()._repr_html_() == "<p>History: no epochs yet</p>"
    history = History(loss=[1.0, 0.5, 0.25], accuracy=[0.5, 0.75, 1.0], steps=30)
    html = history._repr_html_()
    assert "3 epochs, 30 steps, loss 0.25, accuracy 100.0%" in html and "<polyline" in html
