"""HTTP request headers for pywsgi, read without the email package.

pywsgi parses every request's headers with ``http.client.parse_headers``,
which runs the email package's feed parser: about a tenth of the server's
time while thousands of clients connect.  :func:`read_headers` reads the
same lines into :class:`Headers`, which offers what pywsgi and
gevent-websocket use of that result (``get``, ``getheader``, ``headers``,
``typeheader``, ``status``, ``del``), with http.client's limits::

    class Handler(WebSocketHandler):
        def MessageClass(self, rfile, *args):
            return read_headers(rfile)
"""

MAX_LINE = 65536        # http.client's _MAXLINE
MAX_HEADERS = 100       # http.client's _MAXHEADERS


class Headers:
    """Request headers in arrival order; names compared without case."""

    __slots__ = ("_items", "status")

    def __init__(self, items=(), status=""):
        self._items = list(items)       # [(name, value)]
        self.status = status            # non-empty: pywsgi answers 400

    def get(self, name, default=None):
        name = name.lower()
        for key, value in self._items:
            if key.lower() == name:
                return value
        return default

    getheader = get

    def __contains__(self, name):
        return self.get(name) is not None

    def __delitem__(self, name):
        name = name.lower()
        self._items = [(k, v) for k, v in self._items if k.lower() != name]

    def items(self):
        return list(self._items)

    @property
    def headers(self):
        return ["%s: %s\r\n" % item for item in self._items]

    @property
    def typeheader(self):
        return self.get("content-type")


def read_headers(rfile):
    """Read header lines up to the blank line; a broken block gets a ``status``."""
    items = []
    while True:
        line = rfile.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            return Headers(items, "Line too long")
        if line in (b"\r\n", b"\n", b""):
            return Headers(items)
        if len(items) >= MAX_HEADERS:
            return Headers(items, "Too many headers")
        text = line.decode("iso-8859-1")
        if text[:1] in " \t" and items:          # an obsolete folded line
            name, value = items[-1]
            items[-1] = (name, value + " " + text.strip())
            continue
        name, sep, value = text.partition(":")
        if not sep:
            return Headers(items, "Invalid header line")
        items.append((name.strip(), value.strip(" \t\r\n")))
