# -*- test-case-name: tests.test_web -*-
"""
The web view: a read-only look at a running simulator, served by
C{twisted.web} from the simulator's process (L{server}), its pages made
here from the inspection operations (L{pages}) and kept up to date in the
browser by Server-Sent Events (L{streams}).  Plain HTML, CSS and
JavaScript shipped in C{static/}; no build step.
"""
