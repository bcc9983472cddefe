"""realtime: a realtime chat server on gevent and python-socketio.

Importing the package has no side effects (no monkey-patching, no socketio
import); ``create_app`` and ``Config`` are loaded on first use::

    import realtime
    app = realtime.create_app(realtime.Config(store="memory://"))
"""

__version__ = "0.1.0"

__all__ = ["__version__", "create_app", "Config"]


def __getattr__(name):
    if name == "create_app":
        from .app import create_app
        return create_app
    if name == "Config":
        from .config import Config
        return Config
    raise AttributeError("module 'realtime' has no attribute %r" % name)
