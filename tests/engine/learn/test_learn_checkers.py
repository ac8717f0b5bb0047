"""Every exercise's checker passes its reference solution, and refuses the stub and a typical wrong
answer with a verdict in the learner's terms; graph verdicts name, draw and explain the edge."""

from __future__ import annotations

import shutil

import pytest

import engine  # noqa: F401  (the learner's files import the facade; Value's tools register with it)
from engine.learn import EXERCISES, check, exercise, listing, progress, start

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")

# exercise -> (a typical wrong answer, as an edit of the reference solution; what the verdict says)
WRONG = {
    1: (("return 1 - math.tanh(x) ** 2", "return 1.0"),
        "your d tanh/dx at x = 0.5 is 1; finite differences give 0.7864"),
    2: (("return (f(x + h) - f(x - h)) / (2 * h)", "return (f(x + h) - f(x)) / h"),
        "your central_difference(f, 2, h=0.1) for f(x) = x**3 is 12.61; (f(x+h) - f(x-h)) / 2h is 12.01"),
    3: (("        for parent in node.parents:\n            visit(parent)\n        order.append(node)",
         "        order.append(node)\n        for parent in node.parents:\n            visit(parent)"),
        "your order puts #2 = x*w (position 2) before its parent x (position 3)"),
    4: (("parent.grad += local * node.grad", "parent.grad = local * node.grad"),
        "your backward gives t.grad = 3 on the graph t = x*w; #3 = t*x; f = #3 + t; the chain rule gives 4"),
    5: (("return total.tanh()", "return total"), "your neuron gives 1.606 for x = [1, 2, -0.5] with w = [0.296, 0.909, -0.53], b = -0.773; tanh(w·x + b) is 0.9226"),
    6: (("return x[0] if len(x) == 1 else x", "return x"), "returns a list of one Value"),
    7: (("return total / len(scores)", "return total"), "your hinge_loss is 3 for scores [0.5, -2, 1.5] and labels [1, -1, -1]; the mean of max(0, 1 - y*s) is 1"),
    8: (("m_hat = self.m[k] / (1 - self.beta1 ** self.t)", "m_hat = self.m[k]"),
        "after 1 Adam step(s) with lr = 0.1"),
    9: (("delta = [g * yj * (1 - yj) for g, yj in zip(dL_dy, y)]", "delta = list(dL_dy)"),
        "your dW[0][0] is 0.7 for W ="),
    10: (("        optimizer.step()\n", ""), "of the 4 XOR points right"),
}


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write_solutions(folder, but=None):
    for ex in EXERCISES:
        (folder / ex.filename).write_text(ex.solution)
    if but is not None:
        ex = exercise(but)
        (old, new), _ = WRONG[but]
        assert old in ex.solution
        (folder / ex.filename).write_text(ex.solution.replace(old, new))


def test_the_ladder_has_ten_exercises_each_with_stub_solution_and_file():
    assert [ex.number for ex in EXERCISES] == list(range(1, 11))
    for ex in EXERCISES:
        assert ex.filename.startswith(f"ex{ex.number:02d}_") and "NotImplementedError" in ex.stub
        assert "NotImplementedError" not in ex.solution


@pytest.mark.parametrize("n", range(1, 11))
def test_the_reference_solution_passes(folder, n):
    write_solutions(folder)
    verdict = check(n)
    assert verdict.passed, str(verdict)
    assert str(verdict).startswith(f"exercise {n} (") and "PASSED" in str(verdict)
    assert progress() == {n: progress()[n]}


@pytest.mark.parametrize("n", range(1, 11))
def test_the_stub_fails_saying_it_is_not_written_yet(folder, n):
    write_solutions(folder)
    (folder / exercise(n).filename).unlink()
    start(n)
    verdict = check(n)
    assert not verdict.passed
    assert "is not written yet: it still raises NotImplementedError" in verdict.message
    assert progress() == {}


@pytest.mark.parametrize("n", range(1, 11))
def test_a_typical_wrong_answer_fails_with_the_learners_numbers(folder, n):
    write_solutions(folder, but=n)
    verdict = check(n)
    assert not verdict.passed
    assert WRONG[n][1] in verdict.message, verdict.message


@needs_dot
def test_a_wrong_backward_is_pinned_to_an_edge_drawn_and_explained(folder):
    write_solutions(folder, but=4)
    verdict = check(4)
    assert "The edge t -> f (in f = #3 + t) is where it goes wrong" in verdict.message
    assert "the gradient that arrives along t -> f is missing" in verdict.hint
    # the hint quotes the stepper's own step for that edge
    assert "step 1 of 3: f = #3 + t = -24" in verdict.hint
    assert "f -> t:   local ∂f/∂t = 1;  upstream df/df = 1;  adds 1 × 1 = 1" in verdict.hint
    svg = (folder / "gradwalk-learn" / "exercise4-failing-graph.svg")
    assert verdict.drawing == str(svg)
    text = svg.read_text()
    assert text.count("#e03131") >= 2 and "wrong edge" in text
    assert "grad 3" in text  # the learner's own gradient, as their backward left it


def test_a_backward_that_forgets_the_local_derivative_is_told_to_multiply(folder):
    write_solutions(folder)
    (folder / "ex04_backward.py").write_text(exercise(4).solution.replace("local * node.grad", "node.grad"))
    verdict = check(4)
    assert verdict.message.startswith("your backward gives #4.grad = 1 on the graph #2 = x*w; #4 = #2 + b; o = tanh(#4)")
    assert "the chain rule gives 0.5" in verdict.message
    assert "multiply it by the local derivative do/d#4" in verdict.hint
    assert "local ∂o/∂#4 = 1 - tanh(#4)**2 = 0.5" in verdict.hint


def test_a_backward_that_fails_only_on_random_graphs_is_caught_there(folder):
    # Right on the two fixed graphs, wrong wherever a node has three or more uses.
    source = exercise(4).solution.replace(
        "    for node in reversed(order):",
        "    uses = {}\n    for n in order:\n        for p in n.parents:\n            uses[p] = uses.get(p, 0) + 1\n"
        "    for node in reversed(order):\n        if uses.get(node, 0) > 2:\n            node.grad *= 0.5")
    (folder / "ex04_backward.py").write_text(source)
    assert check(4, thorough=False).passed
    verdict = check(4)
    assert not verdict.passed and "the chain rule gives" in verdict.message


def test_an_order_with_repeats_or_gaps_is_named(folder):
    def twice(root):
        order = []

        def visit(node):
            for parent in node.parents:
                visit(parent)
            order.append(node)

        visit(root)
        return order

    assert "twice" in check(3, {"topological_order": twice}).message
    verdict = check(3, {"topological_order": lambda root: [root]})
    assert "your order leaves out" in verdict.message and "visit every parent" in verdict.hint


def test_a_notebooks_names_are_checked_and_not_recorded(folder):
    namespace = {}
    exec(exercise(3).solution, namespace)
    assert check(3, namespace).passed
    assert progress() == {}


def test_local_derivatives_of_relu_and_pow_are_checked_away_from_kinks(folder):
    namespace = {}
    exec(exercise(1).solution.replace("return b * a ** (b - 1)", "return a ** (b - 1)"), namespace)
    verdict = check(1, namespace)
    assert verdict.message == "your d (a**b)/da at a = 2, b = 3 is 4; finite differences give 12"
    assert "the op table writes the local derivatives of ** as" in verdict.hint


@pytest.mark.parametrize("source, says", [
    ("def backward(root) :\n    return (", "ex04_backward.py does not run: SyntaxError"),
    ("x = 1\n", "your code defines no backward"),
    ("def backward(root):\n    return 1 / 0\n", "your backward raised ZeroDivisionError: division by zero"),
    ("def backward(root):\n    root.grad = 'one'\n", "your backward left o.grad = 'one', not a number"),
])
def test_broken_code_gets_one_line_about_it(folder, source, says):
    (folder / "ex04_backward.py").write_text(source)
    assert says in check(4).message


def test_a_missing_file_says_how_to_start(folder):
    assert "there is no file ex03_topological_order.py" in check(3).message
    assert "gradwalk learn start N" in check(3).message


@pytest.mark.parametrize("n", [0, 11, True, "3", 2.0, None])
def test_an_exercise_that_does_not_exist_is_refused(n):
    with pytest.raises(ValueError, match="the exercises are 1 to 10"):
        check(n)


def test_start_refuses_to_overwrite(folder):
    path = start(5)
    path.write_text("mine")
    with pytest.raises(FileExistsError, match="exists already"):
        start(5)
    assert path.read_text() == "mine"


def test_check_refuses_a_hostile_where():
    with pytest.raises(TypeError, match="check takes a path, a module or a dict of names, not int"):
        check(1, 42)


def test_progress_is_listed_and_a_broken_progress_file_is_named(folder):
    write_solutions(folder)
    check(2)
    text = listing()
    assert " 2. the numerical gradient by central differences" in text and "passed 20" in text
    assert "started: ex03_topological_order.py" in text and "1 of 10 passed" in text
    (folder / ".gradwalk-learn.json").write_text("[1, 2")
    with pytest.raises(ValueError, match="is not a gradwalk progress file"):
        progress()
