"""
Compare the gateway benchmarks across git commits, on one machine in one
session: what a change costs the FIX and OUCH gateways.

Each commit is checked out in a detached worktree in a temporary
directory (removed at the end); each round runs C{fix_gateway.py --runs 1}
and C{ouch_gateway.py --runs 1} of every commit in turn (the order of the
commits rotating from round to round), with this interpreter (each
script imports the code of the checkout it lives in).  Reported, per
commit: the medians over the rounds of FIX pipelined throughput, FIX
NewOrderSingle -> ExecutionReport p99 at each paced rate, OUCH pipelined
throughput and OUCH Enter -> Accepted p99, and each figure's ratio to the
first commit's.

    .venv/bin/python benchmarks/compare_commits.py 9f88acc 0631e18 HEAD [--rounds 3]
        [--orders 100000] [--seconds 3]

The message journal (issue 15) was held to "with message_log unset the
gateway benchmarks stay within 5% of before": 9f88acc is the commit before
it, 0631e18 the journal.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

#: (label, script, pattern) of each figure read from the scripts' output.
FIGURES = (
    ("FIX throughput (orders/s)", "fix", r"throughput: (\d+) orders/s"),
    ("FIX p99 at 2,000/s (us)", "fix", r"^\s*2000 orders/s: .* p99 (\d+) us"),
    ("FIX p99 at 10,000/s (us)", "fix", r"^\s*10000 orders/s: .* p99 (\d+) us"),
    ("OUCH throughput (orders/s)", "ouch", r"throughput \(median of \d+\): (\d+) orders/s"),
    ("OUCH p99 at 10,000/s (us)", "ouch", r"Enter -> Accepted at \d+ orders/s .* p99 (\d+) us"),
)


def worktree(commit, where):
    path = os.path.join(where, commit.replace("/", "_"))
    subprocess.run(["git", "-C", ROOT, "worktree", "add", "--detach", path, commit],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return path


def runScript(checkout, name, options):
    if name == "fix":
        arguments = ["fix_gateway.py", "--runs", "1", "--orders", str(options.orders),
                     "--seconds", str(options.seconds)]
    else:
        arguments = ["ouch_gateway.py", "--runs", "1", "--orders", str(options.orders),
                     "--seconds", str(options.seconds)]
    script = os.path.join(checkout, "benchmarks", arguments[0])
    result = subprocess.run([sys.executable, script] + arguments[1:], cwd=checkout,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit("%s failed in %s:\n%s%s" % (arguments[0], checkout, result.stdout, result.stderr))
    return result.stdout


def figures(outputs):
    """
    {label: value} read from the scripts' outputs ({"fix": text, "ouch": text}).
    """
    found = {}
    for label, name, pattern in FIGURES:
        match = re.search(pattern, outputs[name], re.MULTILINE)
        if match is not None:
            found[label] = float(match.group(1))
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("commits", nargs="+")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--orders", type=int, default=100000)
    parser.add_argument("--seconds", type=float, default=3.0)
    options = parser.parse_args()
    where = tempfile.mkdtemp(prefix="exsim-compare-")
    checkouts = []
    try:
        for commit in options.commits:
            checkouts.append(worktree(commit, where))
        rows = {commit: [] for commit in options.commits}
        for index in range(options.rounds):
            order = list(range(len(options.commits)))
            order = order[index % len(order):] + order[:index % len(order)]
            for i in order:
                commit = options.commits[i]
                outputs = {name: runScript(checkouts[i], name, options) for name in ("fix", "ouch")}
                found = figures(outputs)
                rows[commit].append(found)
                print("round %d %-10s %s" % (
                    index + 1, commit,
                    "; ".join("%s %.0f" % (label, value) for label, value in found.items()),
                ), flush=True)
        medians = {
            commit: {
                label: statistics.median(r[label] for r in rows[commit] if label in r)
                for label, _, _ in FIGURES if any(label in r for r in rows[commit])
            }
            for commit in options.commits
        }
        base = medians[options.commits[0]]
        print("\nmedians of %d rounds (ratio to %s):" % (options.rounds, options.commits[0]))
        for label, _, _ in FIGURES:
            cells = []
            for commit in options.commits:
                value = medians[commit].get(label)
                if value is None:
                    cells.append("%s -" % (commit,))
                else:
                    cells.append("%s %.0f (%.3f)" % (commit, value, value / base[label]))
            print("  %-28s %s" % (label, "   ".join(cells)))
    finally:
        for path in checkouts:
            subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", path],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(where, ignore_errors=True)


if __name__ == "__main__":
    main()
