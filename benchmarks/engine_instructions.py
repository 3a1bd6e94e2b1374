"""
Instructions per operation of the matching engine's mixed flow (the one of
benchmarks/engine.py), counted by callgrind: the count does not depend on
what else the machine runs, so two trees can be compared on a loaded
machine where CPU time moves by 10 % or more from run to run.

    python benchmarks/engine_instructions.py [--orders 100000] [--advanced] TREE [TREE...]

For each TREE (a source checkout; an older commit can be unpacked with
C{git archive COMMIT | tar -x -C DIR}), its own benchmarks/engine.py
generates the flow (60 % adds near the touch, 30 % cancels, 10 % crossing
orders; with C{--advanced}, 10 % stops, 10 % icebergs and 5 % midpoint
pegs among them, where the tree's engine.py has that flow) and runs it on
the tree's own engine under C{valgrind --tool=callgrind}.  Only the
instructions between the start and the end of the run are counted (the
flow is generated before; callgrind dumps its counters at two calls of
C{getppid}, which nothing else calls), and printed per operation.
Needs valgrind.
"""

import argparse
import gc
import glob
import os
import random
import re
import subprocess
import sys
import tempfile


def child(tree, n, advanced, flow):
    """
    In the process callgrind runs: build the flow, then run it between two
    getppid calls (adds: the adds, then the cancels, between three).
    """
    sys.path.insert(0, os.path.join(tree, "benchmarks"))
    import engine as bench

    engine, counter = bench.makeEngine()
    rng = random.Random(0)
    if flow == "adds":
        orders = list(bench.restingOrders(n, rng))
        gc.collect()
        os.getppid()
        for order in orders:
            engine.submitNew(order)
        os.getppid()
        for orderId in range(1, n + 1):
            engine.submitCancel("bench", None, None, orderId)
        os.getppid()
        print("events %d" % (counter.count,))
        return
    if advanced:
        ops = bench.mixedOps(n, rng, 1, True)
    else:
        ops = bench.mixedOps(n, rng, 1)
    gc.collect()
    os.getppid()
    bench.runMixed(engine, ops)
    os.getppid()
    print("events %d" % (counter.count,))


def count(tree, n, advanced, flow):
    """
    The instructions each timed part of the flow executed in C{tree}, and
    the events it delivered.
    """
    with tempfile.TemporaryDirectory() as directory:
        out = os.path.join(directory, "callgrind.out")
        command = [
            "valgrind", "--tool=callgrind", "--dump-before=getppid",
            "--callgrind-out-file=" + out, sys.executable, os.path.abspath(__file__),
            "--child", tree, "--orders", str(n), "--flow", flow,
        ] + (["--advanced"] if advanced else [])
        output = subprocess.run(
            command, check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        ).stdout
        events = int(re.search(r"events (\d+)", output).group(1))
        totals = []
        for path in sorted(glob.glob(out + "*"), key=lambda p: int(p.rsplit(".", 1)[-1]) if p[-1].isdigit() else 0):
            with open(path) as f:
                for line in f:
                    if line.startswith(("summary:", "totals:")):
                        totals.append((path, int(line.split()[1])))
                        break
        # Dumps: up to the first getppid, between each two (the timed
        # parts), and the rest.
        parts = [t for p, t in totals if p != out]
        return parts[1:], events


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trees", nargs="*")
    parser.add_argument("--orders", type=int, default=100000)
    parser.add_argument("--advanced", action="store_true")
    parser.add_argument(
        "--flow", choices=["mixed", "adds"], default="mixed",
        help="mixed (default) or adds: non-crossing adds, then cancels of them all",
    )
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.orders, args.advanced, args.flow)
        return
    if not args.trees:
        parser.error("name at least one tree")
    names = ["mixed"] if args.flow == "mixed" else ["adds", "cancels"]
    print("%s flow%s, %d operations, instructions counted by callgrind" % (
        args.flow, " (advanced)" if args.advanced else "", args.orders))
    first = None
    for tree in args.trees:
        parts, events = count(os.path.abspath(tree), args.orders, args.advanced, args.flow)
        perOp = [instructions / args.orders for instructions in parts[:len(names)]]
        if first is None:
            first = perOp
        print("%s (%d events):" % (tree, events))
        for name, value, base in zip(names, perOp, first):
            print("    %-8s %8.0f instructions/op (%+.2f%%)" % (name, value, (value - base) / base * 100.0))


if __name__ == "__main__":
    main()
