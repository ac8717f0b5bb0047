"""The tables: one run's (`render`), two runs side by side (`compare`), and the parameters after a
few training steps, as hex, for bit-identity checks between checkouts (`parameters_hex`)."""

from __future__ import annotations

from benchmarks.common import duration


def _ratio(x) -> str:
    return "" if x is None else f"{x:,.1f}x"


def _count(n) -> str:
    return "n/a" if n is None else f"{n:,}"


def render(rows, memory, scaling, big, ref) -> str:
    """One process's table. "vs micrograd" is the conservative ratio (each run timed right after a
    gc.collect()); "in a row" is the ratio over consecutive steps, as a training loop runs them."""
    lines = ["| workload | peer | nodes | median | vs micrograd | in a row | vs micrograd in a row |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    last = None
    for r in rows:
        shown = r["workload"] if r["workload"] != last else ""
        last = r["workload"]
        in_a_row = duration(r["consecutive_s"]) if r.get("consecutive_s") is not None else ""
        lines.append(f"| {shown} | {r['peer']} | {_count(r.get('nodes'))} | {duration(r['median_s'])} "
                     f"| {_ratio(r['vs_micrograd'])} | {in_a_row} | {_ratio(r.get('vs_micrograd_consecutive'))} |")
    if scaling is not None:
        lines.append(f"\ngradwalk chain t(N={big:,}) / t(N={ref:,}) = {scaling:.1f}  (linear would be {big / ref:.0f})")
    if memory:
        lines.append("\n| D: B's graph in memory | nodes | bytes per node | freed without gc.collect() |")
        lines.append("| --- | ---: | ---: | --- |")
        for label, m in memory.items():
            per = "n/a (C++ heap)" if m["bytes_per_node"] is None else f"{m['bytes_per_node']:.0f}"
            lines.append(f"| {label} | {_count(m['nodes'])} | {per} | {'yes' if m['freed_without_gc'] else 'no'} |")
    return "\n".join(lines)


def compare(old: dict, new: dict, old_name: str = "old", new_name: str = "new") -> str:
    """Two runs (as written by --json) side by side: every row they share, process by process."""
    lines = [f"| process | workload | peer | {old_name} | {new_name} | new/old time "
             f"| vs micrograd {old_name} | vs micrograd {new_name} |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for kind, result in new["processes"].items():
        before = {(r["workload"], r["peer"]): r for r in old["processes"].get(kind, {}).get("rows", [])}
        for r in result["rows"]:
            o = before.get((r["workload"], r["peer"]))
            if o is None:
                continue
            lines.append(f"| {kind} | {r['workload']} | {r['peer']} | {duration(o['median_s'])} "
                         f"| {duration(r['median_s'])} | {r['median_s'] / o['median_s']:.2f} "
                         f"| {_ratio(o['vs_micrograd'])} | {_ratio(r['vs_micrograd'])} |")
    return "\n".join(lines)


def merge_rounds(found: list) -> dict:
    """One process's result from several rounds of it: each row's times and ratios are the median
    over the rounds (the rest is the first round's)."""
    import statistics

    merged = dict(found[0], rounds=len(found))
    merged["rows"] = []
    for k, row in enumerate(found[0]["rows"]):
        row = dict(row, runs=sum(f["rows"][k]["runs"] for f in found))
        for field in ("median_s", "vs_micrograd", "consecutive_s", "vs_micrograd_consecutive"):
            values = [f["rows"][k].get(field) for f in found]
            if all(v is not None for v in values):
                row[field] = statistics.median(values)
        merged["rows"].append(row)
    return merged


def parameters_hex(steps: int) -> dict:
    """Each gradwalk model kind's parameters after `steps` of B's training step, as float.hex()
    strings: equal strings mean bit-identical training."""
    from benchmarks.common import initial_weights, moons, training_step
    from benchmarks.scalar_peers import Gradwalk

    peer = Gradwalk()
    X, y = moons(100)
    found = {}
    for suffix, kind in peer.model_kinds():
        model = peer.model(initial_weights(), kind)
        for _ in range(steps):
            training_step(peer, model, X, y)
        found[suffix] = [p.data.hex() for p in model.parameters()]
    return found
