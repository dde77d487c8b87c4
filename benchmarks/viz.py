"""Pictures of big graphs: how long they take, how big they are, how much memory they need.

Each figure is printed next to its target with PASS or MISS; nothing is asserted (tests
check behaviour, this measures). The cases:

- the GIF of one example through MLP(2, [4, 4, 1]) and its squared error, collapsed by neuron
  and in full: under 10 s and 3 MB each, at most 1,920 px wide, memory under 500 MB;
- a GIF of a 200-node graph (a chain of additions): memory under 500 MB;
- `save_html` (the player) of a chain of 1,000 and of 10,000 nodes (max_nodes raised): the
  10,000-node player under 15 MB and 30 s, memory under 1 GB (the 1,000-node one is shown
  against the same targets).

Every case runs in a subprocess of its own. Its memory is the peak resident set size of that
process and all the `dot` processes it runs at once, summed, sampled every 20 ms from /proc
(tracemalloc would miss dot and Pillow's C memory; the children's `ru_maxrss` counts a
forked child's copy of its parent, so it overstates dot). Python's own peak (`ru_maxrss`) is
shown beside it. `--profile` also prints where the 10,000-node player's time goes (cProfile).

    python benchmarks/viz.py [--profile]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MB = 1e6


def mlp_loss() -> Any:
    from microgradx import losses, nn

    model = nn.MLP(2, [4, 4, 1], seed=0)
    return losses.mse(model([0.5, -1.0]), 1.0)


def chain(nodes: int) -> Any:
    """x + 0 + 1 + ...: each addition adds two nodes (its constant and its result)."""
    from microgradx import Value

    y = Value(1.0, label="x")
    for i in range((nodes - 1) // 2):
        y = y + float(i)
    return y


# name: (what, how to make it, targets); targets are (seconds, MB, widest px, memory MB)
CASES: dict[str, tuple[str, str, tuple[float | None, float | None, int | None, float]]] = {
    "gif-neuron": ("GIF, MLP(2,[4,4,1]) collapsed by neuron", "gif", (10, 3, 1920, 500)),
    "gif-full": ("GIF, MLP(2,[4,4,1]) in full", "gif", (10, 3, 1920, 500)),
    "gif-200": ("GIF, chain of 200 nodes", "gif", (None, None, 1920, 500)),
    "html-1000": ("player, chain of 1,000 nodes", "html", (30, 15, None, 1000)),
    "html-10000": ("player, chain of 10,000 nodes", "html", (30, 15, None, 1000)),
}


def run_case(name: str, folder: Path, profile: bool) -> dict[str, Any]:
    """Make one picture in this process; its figures as a dict."""
    from microgradx import viz

    if name == "gif-neuron":
        root, options = mlp_loss(), {"collapse": "neuron"}
    elif name == "gif-full":
        root, options = mlp_loss(), {}
    elif name == "gif-200":
        root, options = chain(200), {}
    else:
        nodes = int(name.split("-")[1])
        root, options = chain(nodes), {"max_nodes": 2 * nodes}
    path = folder / (name + (".gif" if name.startswith("gif") else ".html"))
    write = viz.save_gif if name.startswith("gif") else viz.save_html
    start = time.perf_counter()
    if profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(write, root, path, **options)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(12)
    else:
        write(root, path, **options)
    seconds = time.perf_counter() - start
    figures: dict[str, Any] = {"seconds": seconds, "mb": path.stat().st_size / MB}
    if path.suffix == ".gif":
        from PIL import Image

        with Image.open(path) as gif:
            figures["size"], figures["frames"] = gif.size, gif.n_frames
    figures["python_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / MB
    return figures


def tree_rss(pid: int) -> int:
    """Bytes resident in process pid and all its descendants now (0 where /proc is missing)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry))
    total, waiting = 0, [pid]
    while waiting:
        process = waiting.pop()
        try:
            with open(f"/proc/{process}/statm") as statm:
                total += int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            pass
        waiting.extend(children.get(process, []))
    return total


def measured(command: list[str]) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run command; what it did, and the peak memory (MB) of it and its children together."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, text=True)
        peak = 0
        while process.poll() is None:
            peak = max(peak, tree_rss(process.pid))
            time.sleep(0.02)
        out.seek(0)
        err.seek(0)
        done = subprocess.CompletedProcess(command, process.returncode, out.read(), err.read())
    return done, peak / MB


def verdict(value: float, target: float | None) -> str:
    if target is None:
        return ""
    return f"(target < {target:g}: {'PASS' if value < target else 'MISS'})"


def report(name: str, figures: dict[str, Any]) -> None:
    what, _, (seconds, mb, widest, memory) = CASES[name]
    peak = max(figures["peak_mb"], figures["python_mb"])
    print(f"{what}")
    print(f"  time     {figures['seconds']:8.1f} s   {verdict(figures['seconds'], seconds)}")
    print(f"  file     {figures['mb']:8.2f} MB  {verdict(figures['mb'], mb)}")
    if "size" in figures:
        width, height = figures["size"]
        fits = "" if widest is None else f"(target <= {widest}: "
        fits += "PASS)" if widest is None or width <= widest else "MISS)"
        print(f"  picture  {width} x {height} px, {figures['frames']} frames  {fits}")
    print(
        f"  memory   {peak:8.0f} MB  {verdict(peak, memory)}  (with its dots; Python alone"
        f" {figures['python_mb']:.0f} MB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--case", choices=CASES, help=argparse.SUPPRESS)  # run one, print JSON
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--profile", action="store_true", help="profile the 10,000-node player")
    parser.add_argument("--only", nargs="*", choices=CASES, help="run only these cases")
    options = parser.parse_args()
    if options.case:
        figures = run_case(options.case, Path(options.folder), options.profile)
        print(json.dumps(figures))
        return
    print(f"pictures of big graphs ({os.cpu_count()} CPUs); each case in a fresh process\n")
    with tempfile.TemporaryDirectory() as folder:
        for name in options.only or CASES:
            profile = options.profile and name == "html-10000"
            command = [sys.executable, __file__, "--case", name, "--folder", folder]
            done, peak = measured(command + ["--profile"] * profile)
            if done.returncode != 0:
                print(f"{CASES[name][0]}: failed\n{done.stderr}")
                continue
            report(name, {**json.loads(done.stdout.strip().splitlines()[-1]), "peak_mb": peak})
            if profile:
                print("  where the time goes (cProfile, cumulative; profiling slows it down):")
                print("\n".join("    " + line for line in done.stderr.splitlines()[:40]))
            print()


if __name__ == "__main__":
    main()
