"""A Flask app whose logged-in users chat under their account, with no token.

    python examples/flask_session_login.py [--port 5000] [--store sqlite:///chat.db] ...

takes the same flags as ``realtime serve``.  Sign in at http://127.0.0.1:5000/login
(demo accounts: alice/alice, bob/bob, and mod/mod, a moderator); the chat at
/chat/ then connects under that account (the page asks for a name: the
account's; another is refused with ``you are signed in as NAME``).  The ``authenticate`` hook reads
Flask's signed session cookie, which the browser sends with the Socket.IO
requests (same origin; both the polling requests and the WebSocket upgrade
carry it); without a session the connection is refused (``not signed in``).
The session is checked when a connection opens, so a logout takes effect at
the next reconnect.  Set FLASK_SECRET_KEY in production (here a random key
is made per start, which signs everyone out on restart).
"""

if __name__ == "__main__":
    # gevent first: before Flask, socketio or anything that imports socket.
    from gevent import monkey
    monkey.patch_all()

import hmac  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

from flask import Flask, redirect, request, session  # noqa: E402
from markupsafe import escape  # noqa: E402

import realtime  # noqa: E402
from realtime import config as settings  # noqa: E402

# Demo accounts: name -> (password, role).  A real app asks its user table.
ACCOUNTS = {"alice": ("alice", "member"), "bob": ("bob", "member"), "mod": ("mod", "moderator")}

LOGIN_FORM = """<!doctype html><title>Sign in</title>
<form method="post"><p>%s</p>
<label>Name <input name="name" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button>Sign in</button></form>"""


def create(config=None):
    """The Flask app with the chat mounted at /chat/, behind the app's own login."""
    if config is None:
        config = settings.load([])
    app = Flask(__name__)
    app.secret_key = os.environ.get("FLASK_SECRET_KEY") or os.urandom(32)
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax")

    @app.route("/")
    def home():
        user = session.get("user")
        if not user:
            return '<p>Please <a href="/login">sign in</a>.</p>'
        return ('<p>Signed in as %s. <a href="/chat/">Open the chat</a> or '
                '<form method="post" action="/logout"><button>sign out</button></form></p>'
                % escape(user))

    @app.route("/login", methods=["GET", "POST"])
    def login():
        if request.method == "GET":
            return LOGIN_FORM % ""
        name, password = request.form.get("name", ""), request.form.get("password", "")
        account = ACCOUNTS.get(name)
        if account is None or not hmac.compare_digest(account[0], password):
            return LOGIN_FORM % "Wrong name or password.", 401
        session.clear()
        session["user"] = name
        return redirect("/")

    @app.route("/logout", methods=["POST"])
    def logout():
        session.clear()
        return redirect("/login")

    def authenticate(environ, auth):
        """The chat's identity for a connection: the Flask session's user, else refused."""
        with app.request_context(environ):
            user = session.get("user")
        if user not in ACCOUNTS:
            return None                      # connect_error "not signed in"
        given = (auth or {}).get("name")
        if isinstance(given, str) and given.strip() and given.strip() != user:
            # The page sends the name it shows; it must be the account's.
            raise realtime.Refused("you are signed in as %s; use that name" % user)
        return {"name": user, "role": ACCOUNTS[user][1]}

    app.wsgi_app = realtime.mount(app.wsgi_app, config, prefix="/chat",
                                  authenticate=authenticate)
    return app


def main(argv=None):
    from realtime.server import run
    # pywsgi + gevent-websocket serve the Flask app, chat mounted; until a signal
    return run(create, "flask_session_login", argv, wsgi=lambda app: app.wsgi_app)


if __name__ == "__main__":
    sys.exit(main())
