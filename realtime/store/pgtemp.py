"""A throwaway PostgreSQL server for tests, benchmarks and local trials.

``initdb`` into a temporary folder, ``postgres`` on a free loopback port,
password authentication, removed again by :meth:`TempPostgres.stop`::

    with TempPostgres() as pg:               # raises Unavailable without binaries
        url = pg.create_database("chat")     # postgresql://realtime:...@127.0.0.1:PORT/chat
        ...

PostgreSQL refuses to run as root: as root, the cluster belongs to the
``postgres`` system user (Debian's package creates it) and the server runs
as that user.  The binaries are looked up in ``$PG_BINDIR``, then
``/usr/lib/postgresql/<newest>/bin`` (Debian), then ``$PATH``.
"""

import ctypes
import glob
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time

USER = "realtime"


class Unavailable(RuntimeError):
    """No PostgreSQL server binaries here (or no user to run them as)."""


def bindir():
    """The folder holding ``initdb`` and ``postgres``; raises :class:`Unavailable`."""
    candidates = [os.environ.get("PG_BINDIR", "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                         key=lambda p: [int(x) for x in p.split("/")[-2].split(".")
                                        if x.isdigit()], reverse=True)
    found = shutil.which("initdb")
    candidates.append(os.path.dirname(found) if found else "")
    for path in candidates:
        if path and all(os.access(os.path.join(path, exe), os.X_OK)
                        for exe in ("initdb", "postgres")):
            return path
    raise Unavailable("PostgreSQL server binaries (initdb, postgres) not found: "
                      "apt-get install postgresql, or set PG_BINDIR")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


try:
    _LIBC = ctypes.CDLL("libc.so.6", use_errno=True)
except OSError:
    _LIBC = None


def _die_with_parent():
    # In the child, after Popen switched the user (nothing may be imported
    # here: the new user may not read this Python): SIGKILL when the parent
    # dies, so a killed test run leaves no server behind.
    if _LIBC is not None:
        _LIBC.prctl(1, signal.SIGKILL)      # PR_SET_PDEATHSIG


class TempPostgres:
    """One PostgreSQL cluster in a temporary folder; ``stop()``/``start()`` keep data and port.

    ``durable=False`` turns fsync off (faster tests; a crash of PostgreSQL
    itself may then lose data, a crash of a client never does).
    """

    def __init__(self, durable=True, port=None):
        self.bin = bindir()
        self.durable = durable
        self.port = port or _free_port()
        self.password = secrets.token_hex(12)
        self.run_as = None
        if os.geteuid() == 0:
            try:
                self.run_as = pwd.getpwnam("postgres")
            except KeyError:
                raise Unavailable("running as root and there is no 'postgres' user to run "
                                  "PostgreSQL as (apt-get install postgresql creates it)")
        self.dir = tempfile.mkdtemp(prefix="realtime-pg-")
        self.data = os.path.join(self.dir, "data")
        self.log_path = os.path.join(self.dir, "postgres.log")
        self.proc = None
        self._initdb()

    # -- set-up ------------------------------------------------------------

    def _popen_kwargs(self):
        kwargs = {"preexec_fn": _die_with_parent, "cwd": self.dir}
        if self.run_as is not None:
            kwargs.update(user=self.run_as.pw_uid, group=self.run_as.pw_gid, extra_groups=[])
        return kwargs

    def _initdb(self):
        pwfile = os.path.join(self.dir, "pw")
        with open(pwfile, "w") as f:
            f.write(self.password + "\n")
        if self.run_as is not None:
            os.chown(self.dir, self.run_as.pw_uid, self.run_as.pw_gid)
            os.chown(pwfile, self.run_as.pw_uid, self.run_as.pw_gid)
        out = subprocess.run(
            [os.path.join(self.bin, "initdb"), "-D", self.data, "-U", USER,
             "--pwfile", pwfile, "--auth-local=scram-sha-256", "--auth-host=scram-sha-256",
             "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions"],
            capture_output=True, text=True, timeout=120, **self._popen_kwargs())
        os.remove(pwfile)
        if out.returncode != 0:
            raise RuntimeError("initdb failed:\n%s%s" % (out.stdout, out.stderr))

    # -- running -----------------------------------------------------------

    @property
    def admin_url(self):
        return self.url("postgres")

    def url(self, database):
        return "postgresql://%s:%s@127.0.0.1:%d/%s" % (USER, self.password, self.port, database)

    def start(self, wait=30.0):
        """Start the server (again, on the same port and data); wait until it accepts."""
        args = [os.path.join(self.bin, "postgres"), "-D", self.data, "-p", str(self.port),
                "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=" + self.dir,
                "-c", "max_connections=200", "-c", "logging_collector=off"]
        if not self.durable:
            args += ["-c", "fsync=off", "-c", "synchronous_commit=off",
                     "-c", "full_page_writes=off"]
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                     **self._popen_kwargs())
        log.close()
        deadline = time.monotonic() + wait
        while True:
            if self.ready():
                return self
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("postgres did not start:\n" + self.log()[-3000:])
            time.sleep(0.05)

    def ready(self):
        """Whether the server accepts a login now."""
        import psycopg
        try:
            psycopg.connect(self.admin_url, connect_timeout=2).close()
            return True
        except psycopg.OperationalError:
            return False

    def stop(self):
        """Fast shutdown (SIGINT: abort transactions, close sessions); data stays."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def restart(self):
        self.stop()
        return self.start()

    def remove(self):
        """Stop and delete the cluster."""
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def create_database(self, name):
        """Create database ``name`` (dropping an old one); return its URL."""
        import psycopg
        from psycopg import sql
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.remove()
