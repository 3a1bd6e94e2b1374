# -*- test-case-name: tests.test_model -*-
"""
Garbage-collector policy for a long-running simulator.

The engine's structures hold no reference cycles (reference counting frees
everything it drops), so the cyclic garbage collector has nothing to find
in them, yet a full collection still walks every tracked object: with a
million resting orders that is a pause of 200-300 ms.  The policy:

 - after start-up, and then every L{FREEZE_INTERVAL} seconds, collect the
   young generations and C{gc.freeze()} whatever survived: frozen objects
   are never walked again;
 - small young generations (L{THRESHOLDS}), so that a collection of what
   survived since the last freeze stays well under a millisecond.

Cycles that become garbage after they were frozen (a long-lived connection
closing, say) are not reclaimed; they are small and few.
"""

import gc
from contextlib import contextmanager

#: Collector thresholds while the policy runs (CPython's defaults are
#: 700, 10, 10).  Events that wait in the control queue survive their
#: first collections, so the young generations fill with live objects:
#: small young generations keep each collection short (a pause of well
#: under a millisecond instead of one or two), and full collections come
#: only after many young ones, by which time the periodic refreeze has
#: moved the survivors out of their reach.
THRESHOLDS = (300, 3, 1000)

#: Seconds between two freezes while the simulator runs.
FREEZE_INTERVAL = 1.0


def freeze():
    """
    Collect what is garbage now, then move every survivor to the permanent
    generation.
    """
    gc.collect()
    gc.freeze()


def refreeze():
    """
    Collect the young generations only, then freeze the survivors: cheap,
    whatever the number of frozen objects.
    """
    gc.collect(1)
    gc.freeze()


def install(clock, interval=FREEZE_INTERVAL):
    """
    Apply the policy: freeze now and every C{interval} seconds.

    @return: the L{LoopingCall} (stop it to uninstall).
    """
    from twisted.internet.task import LoopingCall

    freeze()
    previous = gc.get_threshold()
    gc.set_threshold(*THRESHOLDS)
    call = LoopingCall(refreeze)
    call.clock = clock
    call.previousThresholds = previous
    call.start(interval, now=False)
    return call


def uninstall(call):
    """
    Stop the policy that L{install} returned C{call} for: no more freezes,
    and the collector's thresholds as they were.  What is frozen stays
    frozen.
    """
    if call.running:
        call.stop()
    gc.set_threshold(*call.previousThresholds)


@contextmanager
def paused():
    """
    No automatic collection in this context (what the engine does makes
    no reference cycles): a burst of work that makes and drops many
    objects (a replay's chunk of thousands of orders and events) does not
    set off a young collection every few hundred of them, each walking
    what survived the last.  The objects made meanwhile are looked at by
    the first collection after it, once.  Nested use is fine.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
