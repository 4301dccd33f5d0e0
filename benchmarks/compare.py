"""minigrad next to torch, case by case, in one process: `python -m benchmarks.compare`.

For each case of benchmarks/cases.py both frameworks build the same work (same float32
inputs, same weights, same thread count); then they run in alternating rounds, minigrad then
torch, round after round, and each reports the median over its rounds of the time per call.
A round times ``number`` calls in a row, ``number`` chosen so that one round lasts at least a
couple of milliseconds (the timer's resolution and the loop overhead then do not matter).
Before timing, each callable runs two or three times: the first call pays one-time costs
(scratch buffers, caches, optimizer state) that a training loop pays once, the next ones tell
how many calls make a round.

Columns: the medians, the ratio torch / minigrad (above 1: minigrad is faster), for cases
with FLOPs the GFLOP/s of each and their share of the machine's FP32 peak at this thread count,
for memory-bound cases (pooling, loss, optimizer steps) the GB/s of each (minimal traffic:
every input read once, every output written once).

The peak: ``--peak-gflops`` if given, else one core's rate measured by a calibrated FMA loop
(benchmarks/peak.py) times the thread count. See BENCHMARKS.md.

    python -m benchmarks.compare                       # everything, all cores, < 5 minutes
    python -m benchmarks.compare --quick --threads 1   # fewer rounds, one thread
    python -m benchmarks.compare --cases gemm-64,train-b1 --json out.json --png out.png

Results go to benchmark_results/compare.json and .png in the current folder unless --json and
--png say otherwise.
    python -m benchmarks.compare --list
"""
import argparse
import gc
import json
import math
import os
import platform
import statistics
import sys
import time

# torch and minigrad share one OpenMP runtime (libgomp.so.1) in this process, and it reads its
# spin policy once, when the first of them loads it. minigrad's default (a short spin, see
# minigrad/_kernels/__init__.py) must be set before torch loads it: with libgomp's long default
# spin, idle threads of each framework starve the other's on 2 cores. Both sides then run
# under the same policy.
import minigrad  # noqa: E402,F401  (before torch, see above)

from benchmarks import cases as case_library
from benchmarks.peak import measure_core_peaks

# Where results go unless told otherwise: a folder of the current directory that git ignores,
# never a tracked file (benchmarks/results/ holds the figures BENCHMARKS.md quotes).
RESULTS = "benchmark_results"

# (seconds of timed rounds per case for both frameworks together, rounds at least, at most,
#  seconds one round should last at least)
SETTINGS = {"full": (1.0, 3, 40, 0.002), "quick": (0.2, 3, 10, 0.001)}


def _call_time(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def _round(run, number: int) -> float:
    """Seconds per call, over ``number`` calls in a row."""
    start = time.perf_counter()
    for _ in range(number):
        run()
    return (time.perf_counter() - start) / number


def time_alternating(run_minigrad, run_torch, budget, min_rounds, max_rounds, round_seconds):
    """Median seconds per call of each callable, from rounds that alternate between them."""
    runs = (run_minigrad, run_torch)
    for run in runs:  # the first call pays one-time costs
        run()
    first = []
    for run in runs:  # a second call tells the round size (a third if the call is short)
        seconds = _call_time(run)
        first.append(min(seconds, _call_time(run)) if seconds < 0.05 else seconds)
    numbers = [max(1, math.ceil(round_seconds / max(t, 1e-9))) for t in first]
    per_round = sum(n * t for n, t in zip(numbers, first))
    rounds = int(min(max_rounds, max(min_rounds, budget / max(per_round, 1e-9))))
    samples = ([], [])
    for _ in range(rounds):
        for run, number, out in zip(runs, numbers, samples):
            out.append(_round(run, number))
    return [statistics.median(s) for s in samples], samples, numbers


def _machine() -> dict:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import numpy
    import torch

    return {"cpu": model, "logical_cpus": os.cpu_count(), "python": platform.python_version(),
            "torch": torch.__version__, "numpy": numpy.__version__,
            "minigrad": minigrad.__version__, "platform": platform.platform()}


def _load_average():
    """The 1-minute load average, or None where the OS does not tell."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def _default_threads() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def measure_case(case, settings) -> dict:
    """Build both sides of a case, time them, and derive the rates."""
    run_minigrad = case.build("minigrad")
    run_torch = case.build("torch")
    gc.collect()
    (mine, theirs), samples, numbers = time_alternating(run_minigrad, run_torch, *settings)
    row = {"name": case.name, "group": case.group, "shape": case.shape, "flops": case.flops,
           "bytes": case.bytes, "minigrad_s": mine, "torch_s": theirs, "ratio": theirs / mine,
           "rounds": len(samples[0]), "calls_per_round": numbers,
           "minigrad_samples_s": samples[0], "torch_samples_s": samples[1]}
    for side, seconds in (("minigrad", mine), ("torch", theirs)):
        row[f"{side}_gflops"] = case.flops / seconds / 1e9 if case.flops else None
        row[f"{side}_gbps"] = case.bytes / seconds / 1e9 if case.bytes else None
    return row


def _seconds(value) -> str:
    if value >= 1.0:
        return f"{value:.2f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.2f} ms"
    return f"{value * 1e6:.1f} us"


def _number(value, digits=1) -> str:
    return "" if value is None else f"{value:.{digits}f}"


COLUMNS = [("case", 22, "<"), ("shape", 24, "<"), ("minigrad", 10, ">"), ("torch", 10, ">"),
           ("torch/mg", 8, ">"), ("GFLOP/s mg", 10, ">"), ("torch", 7, ">"),
           ("%peak mg", 8, ">"), ("torch", 6, ">"), ("GB/s mg", 8, ">"), ("torch", 6, ">")]


def format_row(row: dict, peak) -> str:
    percent = {}
    for side in ("minigrad", "torch"):
        rate = row[f"{side}_gflops"]
        percent[side] = 100 * rate / peak if rate is not None and peak else None
    cells = [row["name"], row["shape"], _seconds(row["minigrad_s"]), _seconds(row["torch_s"]),
             f"{row['ratio']:.2f}", _number(row["minigrad_gflops"]), _number(row["torch_gflops"]),
             _number(percent["minigrad"]), _number(percent["torch"]),
             _number(row["minigrad_gbps"], 2), _number(row["torch_gbps"], 2)]
    return "  ".join(f"{cell:{align}{width}}" for cell, (_, width, align) in zip(cells, COLUMNS))


def header() -> str:
    names = "  ".join(f"{name:{align}{width}}" for name, width, align in COLUMNS)
    return names + "\n" + "-" * len(names)


def markdown_table(rows: list, peak) -> str:
    """The table as Markdown, for BENCHMARKS.md."""
    lines = ["| case | shape | minigrad | torch | torch/mg | GFLOP/s mg | torch | %peak mg | torch "
             "| GB/s mg | torch |", "|" + "---|" * 2 + "---:|" * 9]
    for row in rows:
        percent = [100 * row[f"{side}_gflops"] / peak if peak and row[f"{side}_gflops"] else None
                   for side in ("minigrad", "torch")]
        cells = [row["name"], row["shape"].replace("*", "·"), _seconds(row["minigrad_s"]),
                 _seconds(row["torch_s"]), f"{row['ratio']:.2f}", _number(row["minigrad_gflops"]),
                 _number(row["torch_gflops"]), _number(percent[0]), _number(percent[1]),
                 _number(row["minigrad_gbps"], 2), _number(row["torch_gbps"], 2)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def summary(rows: list) -> list:
    """The lines a reader wants first: end-to-end ratios and the slowest kernels."""
    lines = []
    train = [r for r in rows if r["group"] in ("train", "infer")]
    if train:
        lines.append("end to end (torch time / minigrad time, above 1: minigrad faster):")
        lines += [f"  {r['name']:<22} {r['ratio']:.2f}" for r in train]
    kernels = [r for r in rows if r["group"] not in ("train", "infer", "gemm", "optim")]
    if kernels:
        lines.append("kernels where minigrad is slowest relative to torch:")
        for r in sorted(kernels, key=lambda r: r["ratio"])[:6]:
            lines.append(f"  {r['name']:<22} {r['ratio']:.2f}  ({_seconds(r['minigrad_s'])} vs "
                         f"{_seconds(r['torch_s'])})")
    return lines


def write_png(rows: list, path: str, title: str) -> None:
    """A horizontal bar per case from 1 to torch time / minigrad time, on a log axis."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"matplotlib is not installed: no chart written to {path} "
              "(pip install matplotlib)", file=sys.stderr)
        return
    names = [r["name"] for r in rows][::-1]
    ratios = [r["ratio"] for r in rows][::-1]
    colors = ["tab:green" if ratio >= 1 else "tab:red" for ratio in ratios]
    figure, axes = plt.subplots(figsize=(8, 1.2 + 0.22 * len(rows)))
    axes.barh(names, [ratio - 1.0 for ratio in ratios], left=1.0, color=colors)
    axes.set_xscale("log")
    axes.margins(y=0.005)
    axes.axvline(1.0, color="black", linewidth=0.8)
    axes.set_xlabel("torch time / minigrad time (right of 1: minigrad faster)")
    axes.set_title(title, fontsize=9)
    axes.tick_params(axis="y", labelsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _make_parent(path: str) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.compare",
        description="Time minigrad against torch, alternating, in one process.")
    parser.add_argument("--threads", type=int, default=_default_threads(),
                        help="threads for both frameworks (default: every core available)")
    parser.add_argument("--quick", action="store_true", help="fewer rounds per case")
    parser.add_argument("--cases", default="",
                        help="comma-separated names or prefixes (gemm-64,train-b1,conv1,'*-b64')")
    parser.add_argument("--list", action="store_true", help="print the case names and exit")
    parser.add_argument("--json", default=os.path.join(RESULTS, "compare.json"),
                        help="where to write the results as JSON ('none' for nowhere)")
    parser.add_argument("--png", default=os.path.join(RESULTS, "compare.png"),
                        help="where to draw the ratio chart ('none' for nowhere)")
    parser.add_argument("--markdown", default="none",
                        help="also write the table as Markdown to this path (default: nowhere)")
    parser.add_argument("--peak-gflops", type=float, default=None,
                        help="the machine's FP32 peak at this thread count, in GFLOP/s "
                             "(default: measured by an FMA probe on one core, times threads)")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error(f"--threads must be positive, got {args.threads}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    cases = case_library.all_cases()
    if args.list:
        print("\n".join(f"{c.name:<24} {c.shape}" for c in cases))
        return 0
    if args.cases:
        try:
            cases = case_library.select(cases, [p.strip() for p in args.cases.split(",") if p])
        except ValueError as error:
            print(f"error: {error} (see --list)", file=sys.stderr)
            return 2

    import torch

    torch.set_num_threads(args.threads)
    minigrad.set_num_threads(args.threads)

    if args.peak_gflops is not None:
        peak, peak_source = args.peak_gflops, "--peak-gflops"
    else:
        widths = measure_core_peaks()
        core = max(widths.values(), default=None)
        peak = core * args.threads if core else None
        measured = ", ".join(f"{name} {rate:.1f}" for name, rate in widths.items())
        peak_source = (f"FMA probe, GFLOP/s per core: {measured}; the best x {args.threads} "
                       f"threads" if core else "unknown (no probe here: pass --peak-gflops)")

    machine = _machine()
    settings = SETTINGS["quick" if args.quick else "full"]
    print(f"minigrad {machine['minigrad']} vs torch {machine['torch']} on {machine['cpu']}, "
          f"{args.threads} thread(s), float32, {'quick' if args.quick else 'full'} mode")
    print(f"FP32 peak: {peak:.0f} GFLOP/s ({peak_source})" if peak else f"FP32 peak: {peak_source}")
    load_before = _load_average()
    if load_before is not None:
        print(f"load average before the run: {load_before:.2f} (other processes skew timings; "
              f"on {machine['logical_cpus']} CPUs)")
    print(header())
    started = time.perf_counter()
    rows, failures = [], []
    for case in cases:
        try:
            row = measure_case(case, settings)
        except Exception as error:  # a missing or broken piece must not hide the rest
            failures.append({"name": case.name, "error": f"{type(error).__name__}: {error}"})
            print(f"{case.name:<22}  FAILED: {type(error).__name__}: {error}", flush=True)
            continue
        row["minigrad_peak_fraction"] = row["minigrad_gflops"] / peak \
            if peak and row["minigrad_gflops"] else None
        row["torch_peak_fraction"] = row["torch_gflops"] / peak \
            if peak and row["torch_gflops"] else None
        rows.append(row)
        print(format_row(row, peak), flush=True)
    elapsed = time.perf_counter() - started
    load_after = _load_average()
    print()
    print("\n".join(summary(rows)))
    print(f"\n{len(rows)} cases in {elapsed:.0f} s" + (f", {len(failures)} failed" if failures
                                                          else "")
          + (f"; load average after: {load_after:.2f}" if load_after is not None else ""))

    command = "python -m benchmarks.compare " + " ".join(argv if argv is not None else sys.argv[1:])
    if args.json.lower() != "none":
        _make_parent(args.json)
        with open(args.json, "w") as f:
            json.dump({"command": command.strip(), "machine": machine, "threads": args.threads,
                       "mode": "quick" if args.quick else "full", "peak_gflops": peak,
                       "peak_source": peak_source, "seconds": elapsed,
                       "load_average": [load_before, load_after], "cases": rows,
                       "failures": failures}, f, indent=1)
        print(f"wrote {args.json}")
    if args.markdown.lower() != "none":
        _make_parent(args.markdown)
        with open(args.markdown, "w") as f:
            f.write(markdown_table(rows, peak))
        print(f"wrote {args.markdown}")
    if args.png.lower() != "none" and rows:
        _make_parent(args.png)
        write_png(rows, args.png, f"minigrad vs torch {machine['torch']}, {machine['cpu']}, "
                                  f"{args.threads} thread(s)")
        if os.path.exists(args.png):
            print(f"wrote {args.png}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
