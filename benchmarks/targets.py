"""
The versions a comparing benchmark (instructions.py, compare.py) runs:
source trees as they are, or git commits of this repository checked out
in detached worktrees in a temporary directory, removed at the end.
"""

import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@contextmanager
def checkouts(targets):
    """
    {target: source tree} for each of C{targets}: a directory as it is
    (an older commit can be unpacked with C{git archive COMMIT | tar -x -C
    DIR}), anything else as a commit (C{HEAD}, C{main}, C{9f88acc}: what
    C{git rev-parse} names) checked out in a detached worktree, removed
    when the context ends.
    """
    where = tempfile.mkdtemp(prefix="exsim-benchmark-")
    added = []
    try:
        trees = {}
        for target in targets:
            if os.path.isdir(target):
                trees[target] = os.path.abspath(target)
                continue
            path = os.path.join(where, "%d-%s" % (len(added), target.replace("/", "_")))
            result = subprocess.run(
                ["git", "-C", ROOT, "worktree", "add", "--detach", path, target],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            )
            if result.returncode != 0:
                raise SystemExit("%r is neither a directory nor a commit: %s" % (target, result.stderr))
            added.append(path)
            trees[target] = path
        yield trees
    finally:
        for path in added:
            subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", path],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(where, ignore_errors=True)
