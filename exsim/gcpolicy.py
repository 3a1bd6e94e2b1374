# -*- test-case-name: tests.test_gcpolicy -*-
"""
Garbage-collector policy for a long-running simulator.

The engine's structures hold no reference cycles, so the cyclic garbage
collector has nothing to find in them, yet a full collection still walks
every tracked object: with a million resting orders that is a pause of
200-300 ms.  The policy:

 - after start-up (and every FREEZE_INTERVAL seconds), collect the young generations and
   then C{gc.freeze()} whatever survived: frozen objects are never walked
   again;
 - a full collection only runs when the objects created since the last one
   grow by a quarter of those that survived it (CPython's own rule), so
   freezing after a full collection at start-up keeps full collections
   rare and small.

Cycles that become garbage after they were frozen (a long-lived connection
closing, say) are not reclaimed; they are small and few.
"""

import gc

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
    call = LoopingCall(refreeze)
    call.clock = clock
    call.start(interval, now=False)
    return call
