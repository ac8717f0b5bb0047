"""Regenerate the README gallery in demos/images/ from the demos' own full runs.

Each picture is copied from a demo's output folder under a descriptive name. All of them are
deterministic (seeded data and weights, fixed SVG ids, no timestamps), so rerunning this script
changes no bytes unless the code changed.

Run (from the repository root; takes about a minute, mostly the island demo's 2 x 2000 epochs):
    python demos/make_gallery.py
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

# demo -> (arguments, [(file in its output folder, name in demos/images)])
GALLERY = {
    "moons": ([], [("decision_boundary.png", "moons_decision_boundary.png"), ("neuron.svg", "moons_neuron.svg")]),
    "step_through": ([], [("network_graph.svg", "step_through_graph.svg")]),
    "gradient_methods": (["--points", "4", "--hidden", "8"], [("single_unit_graph.svg", "single_unit_graph.svg")]),
    "island": ([], [("island_after.png", "island_after.png"), ("xor_after.png", "island_xor_after.png")]),
    "gradient_check": ([], [("loss.png", "gradient_check_loss.png")]),
}
MAX_BYTES = {".svg": 100_000, ".png": 150_000}


def run_demo(name: str, argv: list[str]) -> None:
    spec = importlib.util.spec_from_file_location(f"demo_{name}", os.path.join(HERE, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(argv)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(HERE, "images"), help="gallery folder")
    parser.add_argument("--only", nargs="*", choices=sorted(GALLERY), help="regenerate only these demos' pictures")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    print(f"output folder: {args.out}")
    written = []
    with tempfile.TemporaryDirectory() as scratch:
        for name, (demo_args, pictures) in GALLERY.items():
            if args.only and name not in args.only:
                continue
            folder = os.path.join(scratch, name)
            run_demo(name, ["--out", folder, "--quiet", *demo_args])
            for source, target in pictures:
                path = os.path.join(args.out, target)
                shutil.copyfile(os.path.join(folder, source), path)
                size = os.path.getsize(path)
                limit = MAX_BYTES[os.path.splitext(path)[1]]
                flag = "" if size <= limit else f"  TOO BIG (limit {limit // 1000} KB)"
                print(f"wrote {path}  ({size / 1000:.0f} KB){flag}")
                written.append(path)
    return {"out": args.out, "files": written}


if __name__ == "__main__":
    main()
