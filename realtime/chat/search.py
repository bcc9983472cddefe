"""``search``: a room's live messages matching every word of a query, newest first.

The word rule is :mod:`realtime.words`; the store does the finding
(SQLite: its FTS5 index, in the archive's thread pool; Redis: a bounded
scan of the newest messages).  Like ``history``, no membership is needed,
and a room with no members and no stored messages is unknown.
"""

from .. import rules
from ..auth import may_join
from ..rules import Invalid
from .common import Feature, ok


class Search(Feature):
    events = ("search",)

    def on_search(self, sid, conn, data):
        room, words, limit = rules.check_search(data)
        if not may_join(conn.room_patterns, room):     # a JWT's rooms claim
            raise Invalid("you may not read %s" % room)
        messages = self.chat.archive.search(room, words, limit)
        if not messages:
            self.chat.known(room)
        return ok(messages=messages)
