"""Exercises 3 and 4: the topological order, and the backward walk (the chain rule).

Both are checked on fixed graphs first (a neuron, a shared subexpression) and then on random
graphs from `engine.testing`, against the engine's own `topological_order` and `gradients`. A
wrong answer is pinned to one edge of the graph: named, drawn in red, and explained by the
stepper's text for that edge.
"""

from __future__ import annotations

from engine.core.graph import gradients, topological_order
from engine.core.value import Value
from engine.learn.graph_feedback import GraphNames
from engine.learn.verdict import WrongAnswer, call, close, needs, search, show

TOPO_STUB = '''"""Exercise 3: the topological order.

Write topological_order(root): every node root depends on (root included), each exactly once,
every node after all of its parents (node.parents, a tuple), and root last.
A node's parents are the Values it was computed from: for o = a * b, o.parents == (a, b).
Leaves (inputs, parameters, constants) have no parents.

Check it with:  gradwalk learn check 3
"""


def topological_order(root):
    order = []
    # Hint: visit a node's parents before you append the node; remember the nodes you have seen.
    raise NotImplementedError("exercise 3: write topological_order")
'''

TOPO_SOLUTION = '''"""Exercise 3: the topological order (a reference solution)."""


def topological_order(root):
    order, seen = [], set()

    def visit(node):
        if node in seen:
            return
        seen.add(node)
        for parent in node.parents:
            visit(parent)
        order.append(node)

    visit(root)
    return order
'''

BACKWARD_STUB = '''"""Exercise 4: the backward walk (the chain rule).

Write backward(root): set node.grad = d(root)/d(node) on every node root depends on.
  * root.grad starts at 1 (d root / d root);
  * walk the nodes from root back to the leaves (the reverse of a topological order), and at each
    node push its gradient to its parents, one edge at a time:
        parent.grad += local * node.grad
    where node.local_grad() returns the local derivatives d(node)/d(parent), one per parent,
    in the order of node.parents. A leaf has no parents, and local_grad None: skip it.
The checker zeroes every grad before it calls your backward.

Check it with:  gradwalk learn check 4
"""

from engine import topological_order  # or your own, from exercise 3


def backward(root):
    order = topological_order(root)
    raise NotImplementedError("exercise 4: write backward")
'''

BACKWARD_SOLUTION = '''"""Exercise 4: the backward walk (a reference solution)."""

from engine import topological_order


def backward(root):
    order = topological_order(root)
    root.grad = 1.0
    for node in reversed(order):
        if not node.parents:
            continue
        for parent, local in zip(node.parents, node.local_grad()):
            parent.grad += local * node.grad
'''


# -- the graphs both exercises are checked on ---------------------------------------------------


def neuron_graph():
    """tanh(x*w + b), the graph of the README, with its leaves labelled."""
    x, w, b = Value(2.0, "x"), Value(-3.0, "w"), Value(6.8813735870195432, "b")
    out = (x * w + b).tanh()
    out.label = "o"
    return out


def shared_graph():
    """f = t * x + t with t = x * w: t and x each feed two nodes, so their grads must add up."""
    x, w = Value(3.0, "x"), Value(-2.0, "w")
    t = x * w
    t.label = "t"
    f = t * x + t
    f.label = "f"
    return f


FIXED_GRAPHS = (neuron_graph, shared_graph)


def random_graphs():
    from hypothesis import strategies as st

    from engine.testing import expression_cases

    def build(case):
        leaves = [Value(x, f"x{k}") for k, x in enumerate(case.inputs)]
        return case.expression(*leaves)

    return st.builds(build, expression_cases(n_vars=st.integers(1, 3), max_steps=6))


def _each_graph(check_one, thorough: bool) -> None:
    for make in FIXED_GRAPHS:
        check_one(make())
    if thorough:
        search(random_graphs(), check_one, examples=60)


def _blame(number: int, root, child, index: int, message: str, tip: str) -> WrongAnswer:
    """The WrongAnswer for the edge child.parents[index] -> child: drawing and stepper hint."""
    return WrongAnswer(message, tip, edge=(number, root, child, index))


# -- exercise 3 -----------------------------------------------------------------------------------


def check_topological_order(names: dict, thorough: bool) -> str:
    (learner,) = needs(names, "topological_order")
    _each_graph(lambda root: _check_order(learner, root), thorough)
    return "your topological_order lists every node once, each after its parents, on every graph tried"


def _check_order(learner, root) -> None:
    graph = GraphNames(root)
    where = f"on the graph {graph.formula()}"
    order = call("your topological_order", learner, root)
    try:
        order = list(order)
    except TypeError:
        raise WrongAnswer(f"your topological_order returned {type(order).__name__}, not a list of nodes") from None
    position = {}
    for k, node in enumerate(order):
        if node not in graph.position:
            raise WrongAnswer(f"your order holds {node!r:.60}, which is not a node of the graph ({where})")
        if node in position:
            raise WrongAnswer(f"your order lists {graph.defined(node)} twice (at positions {position[node]} and {k}) "
                              f"{where}; every node belongs in it once: remember the nodes you have visited")
        position[node] = k
    for node in graph.order:  # parents first, so a missing node is blamed on its first use
        if node not in position:
            child, index = graph.uses(node)[0]
            raise _blame(3, root, child, index,
                         f"your order leaves out {graph.defined(node)} {where}, though {graph[child]} is computed from it",
                         "visit every parent of a node, not only the first, and do it before appending the node")
    for node in graph.order:
        for index, parent in enumerate(node.parents):
            if position[parent] > position[node]:
                raise _blame(3, root, node, index,
                             f"your order puts {graph.defined(node)} (position {position[node]}) before its parent "
                             f"{graph[parent]} (position {position[parent]}) {where}",
                             f"backward walks this order in reverse, so {graph[node]} must pass its gradient to "
                             f"{graph[parent]} before {graph[parent]} passes its own on: append a node only after its parents")
    if order[-1] is not root:
        raise WrongAnswer(f"your order ends with {graph.defined(order[-1])}, not the root {graph[root]} ({where})")


# -- exercise 4 -----------------------------------------------------------------------------------


def check_backward(names: dict, thorough: bool) -> str:
    (learner,) = needs(names, "backward")
    _each_graph(lambda root: _check_backward(learner, root), thorough)
    return "your backward gives every node the chain rule's gradient on every graph tried"


def _check_backward(learner, root) -> None:
    graph = GraphNames(root)
    truth = dict(zip(graph.order, gradients(root, graph.order)))
    for node in graph.order:
        node.grad = 0.0
    try:
        call("your backward", learner, root)
    except WrongAnswer as wrong:
        if "'NoneType' object is not callable" in wrong.message:
            wrong.hint = "a leaf (an input or a constant) has no parents and no local_grad: skip it"
        raise
    where = f"on the graph {graph.formula()}"
    for node in reversed(graph.order):  # from the root back: the first wrong node's children are right
        got, want = node.grad, truth[node]
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            raise WrongAnswer(f"your backward left {graph[node]}.grad = {got!r:.60}, not a number ({where})")
        if close(got, want, rel=1e-6, abs_=1e-9):
            continue
        if node is root:
            raise WrongAnswer(f"your backward gives {graph[root]}.grad = {show(got)}; d{graph[root]}/d{graph[root]} "
                              f"is 1, where every backward pass starts ({where})")
        child, index, tip = _wrong_edge(graph, node, got, truth)
        raise _blame(4, root, child, index,
                     f"your backward gives {graph[node]}.grad = {show(got)} {where}; the chain rule gives {show(want)}. "
                     f"The edge {graph[node]} -> {graph[child]} (in {graph.defined(child)}) is where it goes wrong", tip)


def _wrong_edge(graph: GraphNames, node, got: float, truth: dict):
    """Which edge out of `node` the learner's gradient mishandled, and a tip for that mistake.
    Its children's grads are right, so each edge's true contribution is known."""
    uses = graph.uses(node)
    added = [child.local_grad()[i] * truth[child] for child, i in uses]
    total = truth[node]
    for (child, i), part in zip(uses, added):
        if len(uses) > 1 and close(got, total - part, rel=1e-6, abs_=1e-9):
            return child, i, f"the gradient that arrives along {graph[node]} -> {graph[child]} is missing"
    for (child, i), part in zip(uses, added):
        if len(uses) > 1 and close(got, part, rel=1e-6, abs_=1e-9):
            other = next((c, j) for (c, j) in uses if (c, j) != (child, i))
            return (*other, f"{graph[node]} feeds {len(uses)} nodes, and only the gradient from {graph[child]} "
                            f"survived: add each edge's share (+=), don't overwrite it (=)")
    for child, i in uses:
        if close(got, truth[child], rel=1e-6, abs_=1e-9) or (len(uses) == 1 and close(got, sum(truth[c] for c, _ in uses))):
            return child, i, (f"{graph[node]}.grad equals the upstream gradient {graph[child]}.grad: multiply it by the "
                              f"local derivative d{graph[child]}/d{graph[node]} from {graph[child]}.local_grad()")
    child, i = uses[0]
    return child, i, f"along each edge add local derivative × upstream gradient to {graph[node]}.grad"
