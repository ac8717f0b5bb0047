"""The live playground: train a network and step through backprop in the browser, on the engine.

    gradwalk playground                  # from a shell: prints the URL, opens the browser
    nn.open_playground(model, X, y)      # from Python: your own MLP(2, [..., 1]) and 2-D data

Three views: **Train** (data, network, live decision boundary, loss and accuracy curves),
**Backprop one sample** (one point's computation graph, stepped through backward), and the
**Expression sandbox** (a formula with a slider per variable). The server (Starlette and uvicorn,
the `playground` extra) listens on 127.0.0.1 only; see `nn.playground.server` for its safety rules.
"""

from __future__ import annotations


def open_playground(model=None, X=None, y=None, *, port: int = 0, open_browser: bool = True, save_dir=None,
                    block: bool = True):
    """Start the playground on 127.0.0.1, print its URL and open it in the browser.

    Args:
        model: an `nn.MLP` with 2 inputs and 1 output (at most 4 hidden layers of width 32) that
            every new tab starts from; each tab trains its own copy, so `model` itself is never
            changed (save a trained one from the page). None: the page's default network.
        X, y: 2-D points and their 0/1 labels (at most 2,000); None: the page's datasets.
        port: the port to listen on; 0 (default) picks a free one.
        open_browser: open the URL in the default browser.
        save_dir: an existing folder where the page's "save model" writes NAME.json (with the
            model's atomic `save`); None (default) turns saving off.
        block: True (default) serves until Ctrl-C; False serves on a background thread and
            returns a server with `.url` and `.stop()` (handy in a notebook).

    Needs the `playground` extra: `pip install 'gradwalk[playground]'`.
    """
    from nn.playground.server import open_playground as _open

    return _open(model, X, y, port=port, open_browser=open_browser, save_dir=save_dir, block=block)


def run_command(*, port: int = 0, open_browser: bool = True, save_dir=None,
                prog: str = "gradwalk playground") -> int:
    """What `gradwalk playground` does: serve until Ctrl-C; problems become one line on stderr.
    Returns the exit status (0, or 2 when the server cannot start)."""
    import sys

    try:
        open_playground(port=port, open_browser=open_browser, save_dir=save_dir)
    except (ImportError, OSError, ValueError) as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


def add_arguments(parser) -> None:
    """The command's options, added to an argparse parser (the `gradwalk` CLI uses this too)."""
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default 0: a free one)")
    parser.add_argument("--no-browser", action="store_true", help="print the URL but do not open a browser")
    parser.add_argument("--save-dir", metavar="FOLDER",
                        help="folder where the page's 'save model' may write NAME.json (default: saving is off)")


def main(argv=None, prog: str = "python -m nn.playground") -> int:
    """`python -m nn.playground [--port N] [--no-browser] [--save-dir FOLDER]`; returns the exit status."""
    import argparse

    parser = argparse.ArgumentParser(prog=prog, description="Train and backprop live in the browser, on gradwalk's engine.")
    add_arguments(parser)
    args = parser.parse_args(argv)
    return run_command(port=args.port, open_browser=not args.no_browser, save_dir=args.save_dir, prog=prog)
