"""What the stepper tests share: the README's neuron, and grads read off a graph."""

from engine import Value, topological_order

def neuron():
    """The README's neuron: o = tanh(x*w + b), with do/dx = -1.5 and do/dw = 1."""
    x, w, b = Value(2.0, "x"), Value(-3.0, "w"), Value(6.8813735870195432, "b")
    n = x * w + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return x, w, b, n, o


def grads(root):
    return [node.grad for node in topological_order(root)]


def bits(values):
    """Floats compared bit for bit (so -0.0 differs from 0.0)."""
    return [v.hex() for v in values]


