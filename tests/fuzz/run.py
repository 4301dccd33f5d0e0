"""Property-based fuzzing of minigrad's public API against torch 2.13.

    python tests/fuzz/run.py --quick          # ~2,000 calls, seed 0 (CI; under half a minute)
    python tests/fuzz/run.py --long           # 24,000 calls over seeds 0-7 (local runs)
    python tests/fuzz/run.py --calls 5000 --seed 3 --cases conv2d,max_pool2d --json out.json
    python tests/fuzz/run.py --quick --expect-bounds-checks   # fail unless a MINIGRAD_DEBUG=1 build

For every case of cases.py (each public op, layer, loss, optimizer and the DataLoader)
hypothesis draws arguments, bad and edge-case ones on purpose; a worker process (worker.py)
runs each call in minigrad and in torch and classifies it. Every call is counted in one class:

    same     equal results and gradients           raised   both raised the same exception type
    differs  a difference listed in differences.py, with its reason (intended)
and every other outcome is a failure: 'crash' (the worker died: a segfault), 'hang' (no answer
within --timeout), 'oob' (an IndexError from a kernel's bounds check: MINIGRAD_DEBUG=1
builds), 'nan' (NaN or Inf where torch's result is finite), 'unlisted' (a difference not in
differences.py) or 'harness' (a bug of the fuzzer). A crash kills only the worker: the run
reports it, starts a new worker and goes on. hypothesis shrinks each failure to a small
example, printed with its case name and arguments; the exit status is 1 if any failure.

minigrad is imported as the environment finds it (an installed package, or PYTHONPATH=. for
an in-place build of a checkout); the run prints which one and whether its kernels are
bounds-checked.
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
import pickle
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402

from cases import CASES  # noqa: E402
from differences import explain  # noqa: E402

FAILURES = ("crash", "hang", "oob", "nan", "unlisted", "harness")
CLASSES = ("same", "raised", "differs") + FAILURES
MEMORY_LIMIT = 6 * 2 ** 30  # bytes of address space per worker: absurd sizes fail, not OOM


class Worker:
    """The subprocess that runs calls; restarted after a crash or a hang."""

    def __init__(self, timeout: float, threads: int):
        self.timeout, self.threads = timeout, threads
        self.process, self.info, self.restarts = None, None, 0
        self.log = tempfile.NamedTemporaryFile("w+", prefix="minigrad-fuzz-", suffix=".log")
        self.start()

    def start(self):
        env = dict(os.environ, OMP_NUM_THREADS=str(self.threads),
                   MINIGRAD_FUZZ_MEMORY=str(MEMORY_LIMIT), PYTHONFAULTHANDLER="1")
        self.log.seek(0)
        self.log.truncate()
        self.process = subprocess.Popen([sys.executable, str(HERE / "worker.py")],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=self.log, env=env)
        self.info = self._receive(120)
        if self.info is None:
            raise RuntimeError("the fuzz worker did not start:\n" + self.crash_report())

    def stop(self):
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def _receive(self, timeout):
        import select
        stream = self.process.stdout
        ready, _, _ = select.select([stream], [], [], timeout)
        if not ready:
            return "timeout"
        header = stream.read(8)
        if len(header) < 8:
            return None
        (size,) = struct.unpack("<Q", header)
        return pickle.loads(stream.read(size))

    def crash_report(self) -> str:
        self.log.flush()
        self.log.seek(0)
        text = self.log.read()
        return text[max(text.rfind("--- call"), 0):][-3000:]

    def call(self, name, args) -> dict:
        data = pickle.dumps((name, args))
        try:
            self.process.stdin.write(struct.pack("<Q", len(data)) + data)
            self.process.stdin.flush()
            answer = self._receive(self.timeout)
        except (BrokenPipeError, OSError):
            answer = None
        if isinstance(answer, dict):
            return answer
        if answer == "timeout":
            self.stop()
            result = dict(outcome="hang", kind="", phase="",
                          detail=f"no answer within {self.timeout} s")
        else:
            self.process.wait()
            report = self.crash_report()
            # torch's own crashes (it traps on some integer divisions) are torch's: a
            # difference that differences.py must name, not a crash of minigrad's
            torch_crashed = report.rfind("--- running torch") > report.rfind(
                "--- running minigrad")
            result = dict(outcome="differs" if torch_crashed else "crash",
                          kind="torch crashed" if torch_crashed else
                          f"exit status {self.process.returncode}", phase="", detail=report)
        self.restarts += 1
        self.stop()
        self.start()
        return result


class Failure(AssertionError):
    """A call hypothesis should shrink."""


def classify(case_name, args, outcome) -> tuple:
    """(class, the intended difference's name or None)."""
    kind = outcome["outcome"]
    if kind in ("same", "raised"):
        return kind, None
    if kind == "differs":
        difference = explain(case_name, args, outcome)
        return ("differs", difference.name) if difference else ("unlisted", None)
    if kind == "nan":  # only an entry that is right about an infinity may explain it
        difference = explain(case_name, args, outcome)
        if difference is not None and difference.infinite:
            return "differs", difference.name
    return kind, None


def fuzz_case(worker, case, examples, run_seed, report, log):
    """Run hypothesis over one case; count each call; record the shrunk failure, if any."""
    state = dict(last=None, hung=False, crashes=0)

    @settings(max_examples=examples, database=None, deadline=None, derandomize=False,
              suppress_health_check=list(HealthCheck), phases=(Phase.generate, Phase.shrink),
              report_multiple_bugs=False, print_blob=False)
    @given(case.strategy)
    def test(args):
        if state["hung"] or state["crashes"] > 12:
            return  # a case that hangs or keeps crashing is reported once, not re-run
        outcome = worker.call(case.name, args)
        klass, difference = classify(case.name, args, outcome)
        report.count(case, klass, difference, args, outcome)
        if klass in ("crash", "hang", "oob") and not state.get("shown"):
            state["shown"] = True  # the first one as it happened (shrinking may end elsewhere)
            log(f"{klass.upper()} in {case.name}: {args!r}\n{outcome.get('detail', '')}")
        if klass in FAILURES:
            state["hung"] |= klass == "hang"
            state["crashes"] += klass == "crash"
            state["last"] = (klass, args, outcome)
            raise Failure(klass)

    test = seed(hash_seed(case.name, run_seed))(test)
    started = time.monotonic()
    try:
        test()
    except Exception as error:  # Failure, or hypothesis's own (a flaky failure, ...)
        if state["last"] is None:
            import traceback
            state["last"] = ("harness", None, dict(kind=type(error).__name__, detail="".join(
                traceback.format_exception(error))[-3000:]))
        klass, args, outcome = state["last"]
        report.failures.append(dict(case=case.name, seed=run_seed, outcome=klass,
                                    kind=outcome.get("kind", ""), phase=outcome.get("phase", ""),
                                    args=repr(args), detail=outcome.get("detail", "")))
        log(f"FAIL {case.name} [{klass}] {outcome.get('kind', '')} {outcome.get('phase', '')}:"
            f" {repr(args)[:400]}\n    {outcome.get('detail', '')[:600]}")
    report.seconds[case.name] += time.monotonic() - started


def hash_seed(name: str, run_seed: int) -> int:
    value = run_seed * 1000003
    for ch in name:
        value = (value * 31 + ord(ch)) % (2 ** 32)
    return value


class Report:
    def __init__(self):
        self.classes = Counter()
        self.by_family = defaultdict(Counter)
        self.by_case = defaultdict(Counter)
        self.differences = Counter()
        self.difference_cases = defaultdict(Counter)    # difference -> case -> calls
        self.difference_examples = {}                    # (difference, case) -> a call
        self.failures = []
        self.seconds = Counter()

    def count(self, case, klass, difference, args, outcome):
        self.classes[klass] += 1
        self.by_family[case.family][klass] += 1
        self.by_case[case.name][klass] += 1
        if difference:
            self.differences[difference] += 1
            self.difference_cases[difference][case.name] += 1
            self.difference_examples.setdefault(
                f"{difference} | {case.name}", f"{args!r} -> {outcome['detail'][:300]}")

    @property
    def calls(self) -> int:
        return sum(self.classes.values())

    def table(self) -> str:
        head = f"{'family':<12}" + "".join(f"{c:>9}" for c in ("calls",) + CLASSES)
        lines = [head, "-" * len(head)]
        for family in sorted(self.by_family):
            counts = self.by_family[family]
            lines.append(f"{family:<12}{sum(counts.values()):>9}"
                         + "".join(f"{counts[c]:>9}" for c in CLASSES))
        lines.append("-" * len(head))
        lines.append(f"{'total':<12}{self.calls:>9}" + "".join(f"{self.classes[c]:>9}"
                                                               for c in CLASSES))
        return "\n".join(lines)


def budget(cases, calls):
    """Examples per case: ``calls`` shared by weight, at least 2 each."""
    total = sum(c.weight for c in cases)
    return {c.name: max(2, round(calls * c.weight / total)) for c in cases}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2,000 calls, seed 0")
    parser.add_argument("--long", action="store_true", help="24,000 calls over seeds 0-7")
    parser.add_argument("--calls", type=int, help="calls per seed (default 2,000)")
    parser.add_argument("--seed", type=int, action="append", help="seed(s) (default 0)")
    parser.add_argument("--cases", help="comma-separated case names or families")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per call")
    parser.add_argument("--threads", type=int, default=2, help="kernel threads in the worker")
    parser.add_argument("--json", help="write the counts and failures here")
    parser.add_argument("--expect-bounds-checks", action="store_true",
                        help="fail unless minigrad's kernels are bounds-checked "
                             "(MINIGRAD_DEBUG=1)")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    options = parser.parse_args(argv)
    cases = list(CASES.values())
    if options.cases:
        wanted = set(options.cases.split(","))
        cases = [c for c in cases if c.name in wanted or c.family in wanted]
    if options.list:
        for c in cases:
            print(f"{c.family:<12} {c.name}")
        return 0
    seeds = options.seed or (list(range(8)) if options.long else [0])
    calls = options.calls or (3000 if options.long else 2000)

    worker = Worker(options.timeout, options.threads)
    info = worker.info
    print(f"minigrad: {info['minigrad']} (bounds-checked kernels: {info['bounds_checked']}); "
          f"torch {info['torch']}; {len(cases)} cases; {calls} calls per seed, seeds {seeds}",
          flush=True)
    if options.expect_bounds_checks and not info["bounds_checked"]:
        print("--expect-bounds-checks: this minigrad was not built with MINIGRAD_DEBUG=1",
              file=sys.stderr)
        return 2
    report = Report()
    started = time.monotonic()
    try:
        for run_seed in seeds:
            examples = budget(cases, calls)
            for c in cases:
                fuzz_case(worker, c, examples[c.name], run_seed, report,
                          lambda text: print(text, flush=True))
            print(f"seed {run_seed}: {report.calls} calls so far, "
                  f"{time.monotonic() - started:.0f} s", flush=True)
    finally:
        worker.stop()
    print()
    print(report.table())
    if report.differences:
        print("\nintended differences seen (tests/fuzz/differences.py):")
        for name, count in report.differences.most_common():
            print(f"  {count:>6}  {name}")
    print(f"\n{report.calls} calls in {time.monotonic() - started:.0f} s, "
          f"{worker.restarts} worker restarts, {len(report.failures)} failing cases")
    if options.json:
        Path(options.json).write_text(json.dumps(dict(
            minigrad=info, seeds=seeds, calls=report.calls, classes=dict(report.classes),
            by_family={k: dict(v) for k, v in report.by_family.items()},
            by_case={k: dict(v) for k, v in report.by_case.items()},
            differences=dict(report.differences),
            difference_cases={k: dict(v) for k, v in report.difference_cases.items()},
            difference_examples=report.difference_examples, failures=report.failures),
            indent=1))
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
