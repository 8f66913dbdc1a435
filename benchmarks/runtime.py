"""Measure the runtime cost of spec() lookups and enqueue() calls.

Run with ``python benchmarks/runtime.py``. It times, with timeit, spec('email.send')
beside a plain dict lookup, and enqueue() of a 3-field payload on a fresh InMemoryBackend.
Each figure is the best of ``--repeat`` runs of ``--number`` calls, which is the
least disturbed by other work on the machine. The script prints PASS or MISS per target
and always exits 0, because a miss is a figure to report, not a crash.
"""

from __future__ import annotations

import argparse
import platform
import sys
import timeit

from taskspec_lint.producer import InMemoryBackend, enqueue
from taskspec_lint.tasktypes import REGISTRY, spec

SPEC_RATIO_TARGET = 2.0
ENQUEUE_TARGET_NS = 20_000


def best_ns_per_call(statement: str, setup: str, number: int, repeat: int) -> float:
    """Return the fastest of ``repeat`` runs of ``number`` calls, in nanoseconds per call."""
    namespace = {
        "spec": spec,
        "enqueue": enqueue,
        "InMemoryBackend": InMemoryBackend,
        "d": dict(REGISTRY),
        "payload": {"template": "welcome", "to": "user@example.com", "locale": "en"},
    }
    timings = timeit.repeat(statement, setup=setup, number=number, repeat=repeat, globals=namespace)
    return min(timings) / number * 1e9


def measure(number: int, repeat: int) -> dict[str, float]:
    """Time each call as a statement string, so no wrapper function adds its own call cost."""
    lookups = {
        "spec('email.send')": "spec('email.send')",
        "d['email.send']": "d['email.send']",
        "d.get('email.send')": "d.get('email.send')",
    }
    results = {name: best_ns_per_call(statement, "pass", number, repeat)
               for name, statement in lookups.items()}

    # timeit runs the setup once per repeat, so each timed run starts on a fresh backend.
    # email.send has no unique window, so every call stores a task: the common path.
    results["enqueue(email.send, 3 fields)"] = best_ns_per_call(
        "enqueue('email.send', payload, backend=backend)",
        "backend = InMemoryBackend()",
        max(1, number // 50),
        repeat,
    )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=1_000_000,
                        help="calls per timed run for lookups; enqueue uses 1/50 of it")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per figure; the best is kept")
    args = parser.parse_args(argv)

    results = measure(args.number, args.repeat)

    print(f"Python {platform.python_version()} on {platform.machine()} ({platform.system()}), "
          f"number={args.number}, repeat={args.repeat}, best run kept")
    print()
    print(f"{'call':<32}{'ns/call':>12}{'calls/s':>16}")
    for name, ns in results.items():
        print(f"{name:<32}{ns:>12.1f}{1e9 / ns:>16,.0f}")
    print()

    spec_ns = results["spec('email.send')"]
    index_ns = results["d['email.send']"]
    get_ns = results["d.get('email.send')"]
    ratio_index = spec_ns / index_ns
    ratio_get = spec_ns / get_ns
    print(f"spec() / d[key]:    {ratio_index:.2f}x")
    print(f"spec() / d.get():   {ratio_get:.2f}x")
    print()

    enqueue_ns = results["enqueue(email.send, 3 fields)"]
    checks = [
        (f"spec() within {SPEC_RATIO_TARGET:g}x of d.get()", ratio_get <= SPEC_RATIO_TARGET,
         f"{ratio_get:.2f}x"),
        (f"spec() within {SPEC_RATIO_TARGET:g}x of d[key]", ratio_index <= SPEC_RATIO_TARGET,
         f"{ratio_index:.2f}x"),
        (f"enqueue() under {ENQUEUE_TARGET_NS / 1000:g} µs per call", enqueue_ns < ENQUEUE_TARGET_NS,
         f"{enqueue_ns / 1000:.2f} µs"),
    ]
    print(f"{'target':<40}{'measured':>12}  result")
    for label, passed, measured in checks:
        print(f"{label:<40}{measured:>12}  {'PASS' if passed else 'MISS'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
