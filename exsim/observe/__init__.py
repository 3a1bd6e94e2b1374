# -*- test-case-name: tests.test_inspect -*-
"""
Seeing inside a running simulator: what it has (L{inventory}: engines,
books, endpoints, orders and every property), every message of every
session (L{messagelog}), and a web view of it all (L{exsim.observe.web}).
"""
