"""
CPU time of FIX or OUCH order entry through a whole simulator, in
process, versions against each other: the feed of
C{benchmarks/instructions.py --simulator} (N orders fed first, the next N
timed; pairs that rest and cross, 200 messages a read, the
garbage-collector policy's thresholds), run without valgrind in a fresh
process per run, the versions in turn round by round (their order
rotating), optionally all pinned to one CPU.

    python benchmarks/cputime.py [--flow fix|ouch] [--orders 50000]
        [--rounds 8] [--pin CPU] TARGET TARGET [...]

A TARGET is a source tree or a git commit (see benchmarks/targets.py).
For each target: the median CPU seconds of the timed part and orders per
second of CPU, and the median over rounds of its time divided by the
first target's in the same round, with each round's ratio.  The ratio of
a round is steadier than either median on a shared machine (a busy
neighbour slows both runs of a round); pinning (C{--pin 1}) takes away
the moves between cores.  Instruction counts (instructions.py) do not
show what memory costs; this does, with the machine's noise.

    python benchmarks/cputime.py --rounds 14 --pin 1 851c6fc HEAD
"""

import argparse
import os
import re
import statistics
import subprocess
import sys

from targets import checkouts

HERE = os.path.dirname(os.path.abspath(__file__))


def cpuSeconds(tree, orders, flow, pin=None):
    """
    CPU seconds of one timed feed of C{orders} orders of C{flow} through
    a whole simulator of C{tree}, in a fresh process (pinned to CPU
    C{pin} if given).
    """
    command = [
        sys.executable, os.path.join(HERE, "instructions.py"), "--cpu-child", tree,
        "--orders", str(orders), "--flow", flow, "--simulator",
    ]
    pinned = None
    if pin is not None:
        def pinned():
            os.sched_setaffinity(0, {pin})
    result = subprocess.run(
        command, capture_output=True, text=True, preexec_fn=pinned,
        env=dict(os.environ, PYTHONHASHSEED="0"),
    )
    found = re.search(r"cpu (\S+)", result.stdout)
    if result.returncode != 0 or found is None:
        raise SystemExit("the %s feed failed in %s:\n%s%s" % (
            flow, tree, result.stdout, result.stderr[-3000:]))
    return float(found.group(1))


def compare(trees, targets, orders, flow, rounds, pin=None, log=print):
    """
    {target: [CPU seconds of each round]}, the targets run in turn.
    """
    times = {target: [] for target in targets}
    for round in range(rounds):
        shift = round % len(targets)
        for target in targets[shift:] + targets[:shift]:
            times[target].append(cpuSeconds(trees[target], orders, flow, pin))
        log("round %d: %s" % (round + 1, ", ".join(
            "%.3f" % times[target][-1] for target in targets)), flush=True)
    return times


def report(times, targets, orders, log=print):
    first = times[targets[0]]
    for target in targets:
        seconds = times[target]
        ratios = [mine / base for mine, base in zip(seconds, first)]
        log("%-24s %.3f s CPU (%.0f orders/s), ratio to %s %.3f (%+.1f%%); rounds: %s" % (
            target, statistics.median(seconds), orders / statistics.median(seconds),
            targets[0], statistics.median(ratios), (statistics.median(ratios) - 1) * 100,
            " ".join("%.3f" % r for r in ratios)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="+", metavar="TARGET", help="source trees or commits")
    parser.add_argument("--flow", default="fix", choices=("fix", "ouch"))
    parser.add_argument("--orders", type=int, default=50000, help="orders timed (as many fed first)")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--pin", type=int, default=None, metavar="CPU",
                        help="run every feed on this CPU only")
    args = parser.parse_args()
    if args.rounds < 1 or args.orders < 200:
        parser.error("at least one round and 200 orders")
    if args.pin is not None and not hasattr(os, "sched_setaffinity"):
        parser.error("--pin needs os.sched_setaffinity (Linux)")
    with checkouts(args.targets) as trees:
        print("%s through a whole simulator, %d orders timed, %d rounds%s" % (
            args.flow, args.orders, args.rounds,
            ", pinned to CPU %d" % args.pin if args.pin is not None else ""), flush=True)
        times = compare(trees, args.targets, args.orders, args.flow, args.rounds, args.pin)
        report(times, args.targets, args.orders)


if __name__ == "__main__":
    main()
