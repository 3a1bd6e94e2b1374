"""
Sphinx configuration of the exsim documentation.

Build it as the test suite does (tests/test_docs.py), warnings as errors::

    .venv/bin/python -m sphinx -W -b html docs docs/_build/html
"""

import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "_ext"))
# The management API page documents the code of this checkout.
sys.path.insert(1, os.path.dirname(here))

project = "exsim"
author = "the exsim authors"
copyright = "the exsim authors"
release = version = "0.1.0"

extensions = ["exsimops"]
exclude_patterns = ["_build"]
root_doc = "index"
highlight_language = "none"
html_theme = "alabaster"
html_static_path = []
# Operations are documented as functions of no module: show their bare names.
add_module_names = False
# Text as written: no curly quotes or dashes for what users type.
smartquotes = False
