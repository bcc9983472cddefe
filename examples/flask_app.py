"""A Flask app with the realtime chat mounted at /chat/ (Socket.IO at /socket.io/).

    python examples/flask_app.py [--port 5000] [--store sqlite:///chat.db] ...

takes the same flags as ``realtime serve``; then open http://127.0.0.1:5000/
(the Flask page) and http://127.0.0.1:5000/chat/ (the chat).  Under gunicorn,
from the top of the checkout (settings from the REALTIME_* environment):

    gunicorn -k geventwebsocket.gunicorn.workers.GeventWebSocketWorker -w 1 \\
        --worker-connections 10000 --bind 127.0.0.1:8000 --pythonpath examples 'flask_app:create()'
"""

if __name__ == "__main__":
    # gevent first: before Flask, socketio or anything that imports socket.
    from gevent import monkey
    monkey.patch_all()

import sys  # noqa: E402

from flask import Flask  # noqa: E402

import realtime  # noqa: E402
from realtime import config as settings  # noqa: E402


def create(config=None):
    """The Flask app with the chat mounted.

    ``config`` is a realtime.Config; by default the settings come from the
    environment (``REALTIME_STORE``, ``REALTIME_SECRET``, ...), as under gunicorn.
    """
    if config is None:
        config = settings.load([])
    app = Flask(__name__)

    @app.route("/")
    def home():
        return '<p>Hello from Flask. The chat is <a href="/chat/">here</a>.</p>'

    # The integration: one line (plus `import realtime` and a Config).
    app.wsgi_app = realtime.mount(app.wsgi_app, config, prefix="/chat")
    return app


def main(argv=None):
    from realtime.server import run
    # pywsgi + gevent-websocket serve the Flask app, chat mounted; until a signal
    return run(create, "flask_app", argv, wsgi=lambda app: app.wsgi_app)


if __name__ == "__main__":
    sys.exit(main())
