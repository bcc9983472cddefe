"""realtime: a realtime chat server on gevent and python-socketio.

Importing the package has no side effects (no monkey-patching, no socketio
import); ``create_app``, ``Config``, ``mount`` and ``Emitter`` are loaded on
first use::

    import realtime
    app = realtime.create_app(realtime.Config(store="memory://"))
    flask_app.wsgi_app = realtime.mount(flask_app.wsgi_app, config)    # embed
    realtime.Emitter(redis_url, store_url).post("lobby", "deploy done")  # from a job
"""

__version__ = "0.1.0"

__all__ = ["__version__", "create_app", "Config", "mount", "Emitter", "Refused", "Identity"]


def __getattr__(name):
    if name == "create_app":
        from .app import create_app
        return create_app
    if name == "Config":
        from .config import Config
        return Config
    if name == "mount":
        # The module is realtime.embed: a submodule named "mount" would replace
        # this function as the package attribute once imported.
        from .embed import mount
        return mount
    if name == "Refused":
        from .hooks import Refused
        return Refused
    if name == "Identity":
        from .auth import Identity
        return Identity
    if name == "Emitter":
        from .emitter import Emitter
        return Emitter
    raise AttributeError("module 'realtime' has no attribute %r" % name)
