"""
Compare a benchmark on two source trees, runs alternating (old, new, old,
new, ...) so that a shared machine's load drifts over both alike; prints
each figure's median per tree and the change.

    .venv/bin/python benchmarks/alternate.py --old /tmp/exsim-old --new . \\
        --rounds 3 -- benchmarks/engine.py --only mixed --orders 300000 --runs 1

The benchmark (a path relative to each tree) runs with this interpreter in
each tree (its scripts put their own tree first on sys.path).  Every line
of its output that ends with a number and a unit (C{ops/s}, C{s}, C{ms},
C{msg/s}...) is a figure, named by the text before the number.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys

#: "<name>: <number> <unit>" or "<name> <number> <unit>" at the end of a line.
FIGURE = re.compile(r"^(?P<name>.*?)[:\s]\s*(?P<value>[0-9][0-9,]*(?:\.[0-9]+)?)\s*(?P<unit>[A-Za-z/%]+)\b")


def figures(text):
    """
    The figures of a benchmark's output: {name: (value, unit)}.
    """
    result = {}
    for line in text.splitlines():
        match = FIGURE.match(line.strip())
        if match is None:
            continue
        name = match.group("name").strip()
        value = float(match.group("value").replace(",", ""))
        result.setdefault(name, (value, match.group("unit")))
    return result


def runOnce(tree, command):
    script = os.path.join(tree, command[0])
    output = subprocess.run(
        [sys.executable, script] + command[1:], cwd=tree, capture_output=True, text=True,
        check=True,
    ).stdout
    return figures(output)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", required=True, help="the tree of the old code")
    parser.add_argument("--new", required=True, help="the tree of the new code")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = [c for c in args.command if c != "--"]
    seen = {"old": {}, "new": {}}
    for round in range(args.rounds):
        for label, tree in (("old", args.old), ("new", args.new)):
            for name, (value, unit) in runOnce(tree, command).items():
                seen[label].setdefault(name, []).append((value, unit))
            print("round %d %s done" % (round + 1, label), file=sys.stderr)
    print("%d rounds, alternating; medians:" % (args.rounds,))
    for name in seen["new"]:
        if name not in seen["old"]:
            continue
        old = statistics.median(v for v, _ in seen["old"][name])
        new = statistics.median(v for v, _ in seen["new"][name])
        unit = seen["new"][name][0][1]
        change = (new - old) / old * 100 if old else float("nan")
        print("%-60s old %12.3f  new %12.3f %-6s (%+.1f%%)" % (name[:60], old, new, unit, change))


if __name__ == "__main__":
    main()
