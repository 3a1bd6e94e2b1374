"""
exsim: an exchange simulator for testing trading applications.
"""

from exsim.registry import register

__version__ = "0.1.0"

__all__ = ["register", "API", "__version__"]


def __getattr__(name):
    # exsim.API lives with the client; import it only when asked for, so
    # "import exsim" stays cheap for the twistd plugin.
    if name == "API":
        from exsim.client import API

        return API
    raise AttributeError(name)
