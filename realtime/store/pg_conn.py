"""PostgreSQL connections for the store: libpq defaults, URL checks, liveness, gevent.

Nothing here knows the schema; :mod:`realtime.store.postgres` uses it::

    kwargs = connection_kwargs(url)     # a bad URL raises ValueError
    hide_password(url)                  # for logs
"""

import logging
import re
import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.pq import ConnStatus, TransactionStatus

log = logging.getLogger("realtime.store")

# libpq settings used unless the URL gives its own: fail fast on a dead
# network instead of waiting for TCP's minutes; bound any one statement.
DEFAULTS = {
    "application_name": "realtime",
    "connect_timeout": "3",
    "keepalives": "1",
    "keepalives_idle": "10",
    "keepalives_interval": "5",
    "keepalives_count": "3",
    "tcp_user_timeout": "15000",
    "options": "-c statement_timeout=15000",
}


def hide_password(url):
    """``postgresql://u:secret@h/db?password=x`` -> ``postgresql://u:***@h/db?password=***``."""
    parts = urlsplit(url)
    if parts.password is not None:
        host = parts.netloc.rpartition("@")[2]
        parts = parts._replace(netloc="%s:***@%s" % (parts.username or "", host))
    return urlunsplit(parts._replace(query=re.sub(r"(^|&)(password=)[^&]*", r"\1\2***",
                                                  parts.query)))


def connection_kwargs(url):
    """psycopg connect arguments: :data:`DEFAULTS` under the URL's own parameters."""
    try:
        given = conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise ValueError("bad PostgreSQL URL %s: %s" % (hide_password(url), exc)) from None
    kwargs = {k: v for k, v in DEFAULTS.items() if k not in given}
    kwargs["autocommit"] = True
    return kwargs


def alive(conn):
    """Whether an idle pooled connection still works, without a round trip:
    read whatever its socket holds (a dead server left EOF or an error)."""
    pgconn = conn.pgconn
    if conn.closed or pgconn.status != ConnStatus.OK:
        return False
    try:
        pgconn.consume_input()
    except psycopg.Error:
        return False
    return pgconn.status == ConnStatus.OK and \
        pgconn.transaction_status == TransactionStatus.IDLE


def check_cooperative():
    """Log an error when gevent patched ``select`` after psycopg chose its C wait
    (psycopg was imported first): every query would then stall the hub."""
    monkey = sys.modules.get("gevent.monkey")
    import psycopg.waiting
    if monkey is not None and monkey.is_module_patched("select") and \
            psycopg.waiting.wait is getattr(psycopg.waiting, "wait_c", None):
        log.error("psycopg was imported before gevent monkey-patched the process: every "
                  "PostgreSQL query will block all connections; patch first (the entry "
                  "points and gunicorn's gevent workers do)")
