"""Pictures of a graph: `draw` and `draw_dot` (Graphviz), and `animate_backward`, the player page.

build.py lays out one drawing from options.py's settings, grouping nodes with groups.py and
styling them with style.py; player.py turns the stepper's steps into frames over that drawing.
Graphviz loads on the first picture, so `import engine` stays light.
"""

from engine.core.protocols import tools


def _draw(root, path=None, **options):
    from engine.drawing.build import draw

    return draw(root, path, **options)


def _mimebundle(root, include=None, exclude=None):
    from engine.drawing.build import mimebundle

    return mimebundle(root, include, exclude)


tools["draw"], tools["mimebundle"] = _draw, _mimebundle
