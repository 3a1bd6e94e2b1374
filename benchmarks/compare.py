"""
Versions against each other on a shared, noisy machine: run benchmark
scripts of two or more versions in rounds, each run in a fresh process,
the order of the versions rotating from round to round (so that none
always runs on the heels of another), and print the median of every
figure for each version, with its change from the first version's.

    python benchmarks/compare.py TARGET TARGET [...] [--rounds 5] -- \\
        benchmarks/engine.py --only mixed --runs 1
    python benchmarks/compare.py 9f88acc 0631e18 HEAD [--rounds 3] \\
        [--orders 100000] [--seconds 3]

A TARGET is a source tree (a directory) or a git commit of this
repository, checked out in a detached worktree in a temporary directory
and removed at the end (see benchmarks/targets.py).  Each script runs with
this interpreter, in the target's tree, and imports the target's code
(it must put its own tree first on C{sys.path}, as the scripts in
benchmarks/ do).

After C{--}: a benchmark script (its path relative to each target) and
its arguments; a figure is a line of its output of the form C{label:
number ...} (lines without one are ignored).  Without C{--}: the gateway
benchmarks, C{fix_gateway.py} and C{ouch_gateway.py} with C{--runs 1
--orders N --seconds S}, and their figures: FIX pipelined throughput, FIX
NewOrderSingle -> ExecutionReport p99 at 2,000 and 10,000 orders/s, OUCH
pipelined throughput and OUCH Enter -> Accepted p99 (the message journal
of issue 15 was held to "with message_log unset the gateway benchmarks
stay within 5% of before": 9f88acc is the commit before it, 0631e18 the
journal).
"""

import argparse
import os
import re
import statistics
import subprocess
import sys

from targets import checkouts

#: A figure of any script's output.
_FIGURE = re.compile(r"^\s*([^:]+?):\s+([0-9][0-9.]*)")

#: (label, script, pattern) of each figure read from the gateway scripts.
GATEWAY_FIGURES = (
    ("FIX throughput (orders/s)", "fix_gateway.py", r"throughput: (\d+) orders/s"),
    ("FIX p99 at 2,000/s (us)", "fix_gateway.py", r"^\s*2000 orders/s: .* p99 (\d+) us"),
    ("FIX p99 at 10,000/s (us)", "fix_gateway.py", r"^\s*10000 orders/s: .* p99 (\d+) us"),
    ("OUCH throughput (orders/s)", "ouch_gateway.py", r"throughput \(median of \d+\): (\d+) orders/s"),
    ("OUCH p99 at 10,000/s (us)", "ouch_gateway.py", r"Enter -> Accepted at \d+ orders/s .* p99 (\d+) us"),
)


def figures(output):
    """
    The figures of one run of any script: {label: number}, in the order
    printed.
    """
    result = {}
    for line in output.splitlines():
        match = _FIGURE.match(line)
        if match is not None:
            result[match.group(1)] = float(match.group(2))
    return result


def gatewayFigures(outputs):
    """
    {label: number} read from the gateway scripts' outputs ({script name:
    text}).
    """
    found = {}
    for label, name, pattern in GATEWAY_FIGURES:
        match = re.search(pattern, outputs[name], re.MULTILINE)
        if match is not None:
            found[label] = float(match.group(1))
    return found


def run(tree, script):
    """
    The output of C{script} (path relative to C{tree}, then arguments) run
    in C{tree}.
    """
    command = [sys.executable, os.path.join(tree, script[0])] + script[1:]
    result = subprocess.run(command, cwd=tree, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit("%s failed in %s:\n%s%s" % (script[0], tree, result.stdout, result.stderr))
    return result.stdout


def measure(tree, script, options):
    """
    The figures of one round of C{tree}: of C{script}, or of the gateway
    scripts if it is None.
    """
    if script:
        return figures(run(tree, script))
    outputs = {}
    for name in ("fix_gateway.py", "ouch_gateway.py"):
        outputs[name] = run(tree, [
            os.path.join("benchmarks", name), "--runs", "1", "--orders", str(options.orders),
            "--seconds", str(options.seconds),
        ])
    return gatewayFigures(outputs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="+", metavar="TARGET", help="source trees or commits")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each target (default 5)")
    parser.add_argument("--orders", type=int, default=100000, help="gateway benchmarks: orders")
    parser.add_argument("--seconds", type=float, default=3.0, help="gateway benchmarks: seconds a rate")
    argv = sys.argv[1:]
    script = None
    if "--" in argv:
        split = argv.index("--")
        argv, script = argv[:split], argv[split + 1:]
        if not script:
            parser.error("name the benchmark script and its arguments after --")
    options = parser.parse_args(argv)
    targets = options.targets
    if len(set(targets)) != len(targets):
        parser.error("name each target once")
    what = " ".join(script) if script else "fix_gateway.py and ouch_gateway.py"
    with checkouts(targets) as trees:
        runs = {target: [] for target in targets}
        for index in range(options.rounds):
            order = targets[index % len(targets):] + targets[:index % len(targets)]
            for target in order:
                found = measure(trees[target], script, options)
                runs[target].append(found)
                print("round %d %-12s %s" % (
                    index + 1, target,
                    "; ".join("%s %.0f" % (label, value) for label, value in found.items()),
                ), flush=True)
    labels = []
    for target in targets:
        for found in runs[target]:
            labels.extend(label for label in found if label not in labels)
    base = targets[0]
    print("\n%s: medians of %d rounds, versions in turn (change from %s)" % (what, options.rounds, base))
    for label in labels:
        print(label)
        first = [r[label] for r in runs[base] if label in r]
        for target in targets:
            values = [r[label] for r in runs[target] if label in r]
            if not values:
                print("    %-12s -" % (target,))
                continue
            median = statistics.median(values)
            change = ""
            if first and statistics.median(first):
                a = statistics.median(first)
                change = "%+7.1f%% (%.3f)" % ((median - a) / a * 100.0, median / a)
            print("    %-12s %14.0f %s   runs %s" % (
                target, median, change, " ".join("%.0f" % v for v in values)))


if __name__ == "__main__":
    main()
