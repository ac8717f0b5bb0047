"""Live notebook views (Jupyter, VS Code, Colab): the backward stepper as a widget, or as a quiz.

    >>> from engine import Value
    >>> from engine.notebook import StepperWidget      # doctest: +SKIP
    >>> x, w = Value(2.0, "x"), Value(-3.0, "w")
    >>> steps = (x * w).tanh().backward_steps()
    >>> StepperWidget(steps)                            # doctest: +SKIP
    >>> quiz = (x * w).tanh().backward_steps(quiz=True)
    >>> StepperWidget(quiz)                             # doctest: +SKIP

The widgets are anywidget widgets: a small JavaScript module whose state is synced with a Python
object, so they run wherever anywidget runs. anywidget is the optional `notebook` extra and is
imported on first use; without it, the error says what to install, and every static display
(a Value's SVG, a Player's page, the texts) works as before.
"""

__all__ = ["StepperWidget", "require_anywidget"]


def require_anywidget():
    """The anywidget module, or an ImportError that names the extra to install."""
    try:
        import anywidget
    except ImportError as exc:
        raise ImportError(
            "the live notebook widgets need anywidget: pip install 'gradwalk[notebook]' "
            "(static displays -- a Value's picture, animate_backward's page -- work without it)"
        ) from exc
    return anywidget


def __getattr__(name):
    # The widget classes subclass anywidget.AnyWidget, so their module loads only when asked for.
    if name == "StepperWidget":
        require_anywidget()
        from engine.notebook.stepper_widget import StepperWidget

        return StepperWidget
    raise AttributeError(f"module 'engine.notebook' has no attribute {name!r}")
