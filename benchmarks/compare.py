"""
Old against new on a shared, noisy machine: run one benchmark script of two
source trees alternately (old, new, old, new, ...), each run in a fresh
process, and print the median of every figure for each tree and the change.

    python benchmarks/compare.py OLD_TREE NEW_TREE [--rounds 5] -- \\
        benchmarks/engine.py --only mixed --runs 1

The script path is relative to each tree (it must put its own tree first
on C{sys.path}, as the scripts in benchmarks/ do).  A figure is a line of
its output of the form C{label: number ...}; lines without one are
ignored.  An old tree can be made from a commit with C{git archive COMMIT |
tar -x -C DIR}.
"""

import argparse
import re
import statistics
import subprocess
import sys

_FIGURE = re.compile(r"^\s*([^:]+?):\s+([0-9][0-9.]*)")


def figures(output):
    """
    The figures of one run: {label: number}, in the order printed.
    """
    result = {}
    for line in output.splitlines():
        match = _FIGURE.match(line)
        if match is not None:
            result[match.group(1)] = float(match.group(2))
    return result


def run(tree, script):
    command = [sys.executable, "%s/%s" % (tree.rstrip("/"), script[0])] + script[1:]
    return figures(subprocess.check_output(command, text=True))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each tree (default 5)")
    argv = sys.argv[1:]
    if "--" not in argv:
        parser.error("name the benchmark script and its arguments after --")
    split = argv.index("--")
    args = parser.parse_args(argv[:split])
    script = argv[split + 1:]
    if not script:
        parser.error("name the benchmark script and its arguments after --")
    runs = {"old": [], "new": []}
    for round in range(args.rounds):
        # Alternate which goes first, so that neither always runs on the
        # heels of the other.
        order = ("old", "new") if round % 2 == 0 else ("new", "old")
        for which in order:
            runs[which].append(run(getattr(args, which), script))
    print("%s: median of %d runs each, old and new alternately" % (" ".join(script), args.rounds))
    print("%-60s %14s %14s %8s" % ("figure", "old", "new", "change"))
    for label in runs["new"][0]:
        old = [r[label] for r in runs["old"] if label in r]
        new = [r[label] for r in runs["new"] if label in r]
        if not old:
            print("%-60s %14s %14.0f" % (label, "-", statistics.median(new)))
            continue
        a, b = statistics.median(old), statistics.median(new)
        change = "%+7.1f%%" % ((b - a) / a * 100.0) if a else ""
        print("%-60s %14.0f %14.0f %8s" % (label[:60], a, b, change))
        print("%-60s %s" % ("", "old " + " ".join("%.0f" % v for v in old)))
        print("%-60s %s" % ("", "new " + " ".join("%.0f" % v for v in new)))


if __name__ == "__main__":
    main()
