"""Write tests/data/release1.db and release1.json with the FIRST release's store.

Made once, by ``python3 tests/data/make_release1_db.py`` at commit 1be63f3
(the first release, schema without a version: ``PRAGMA user_version`` 0),
before the second release changed the schema.  Re-running it with later
code would write a newer schema, so the committed files are the fixture;
tests/test_store_migration.py opens a copy of them with the current code.
"""

import json
import os
import sqlite3
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))

from realtime.store.sqlite import SQLiteStore  # noqa: E402

NAMES = ["alice", "bob", "carol", "Zoë", "名前"]
TEXTS = ["hello", "a\x00b", "<b>bold</b> & <script>x</script>", "\u202eRTL\u200b", "😀 🎉",
         "line one\nline two", "  padded  ", "x" * 2000, "Café Ünïcödé ÉCOLE straße"]


def main():
    db = os.path.join(HERE, "release1.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.unlink(db + suffix)
    store = SQLiteStore("sqlite:///" + db)
    ts = 1764240000000
    n = 0
    for room, count in (("lobby", 300), ("dev", 60), ("a.b-c_d", 15)):
        batch = []
        for i in range(count):
            n += 1
            name = NAMES[n % len(NAMES)]
            text = "%s %d: %s" % (room, i, TEXTS[n % len(TEXTS)]) if n % 3 else TEXTS[n % len(TEXTS)]
            cid = "c-%d" % n if n % 4 == 0 else None
            batch.append((room, name, text, cid, ts + n * 1000))
            if len(batch) == 25:
                store.append_batch(batch)
                batch = []
        if batch:
            store.append_batch(batch)
    dump = {room: store.after(room, 0, 100000)[0] for room in ("lobby", "dev", "a.b-c_d")}
    cids = {}
    conn = sqlite3.connect(db)
    for name, cid, id in conn.execute("SELECT name, cid, id FROM messages WHERE cid IS NOT NULL"):
        cids["%s\t%s" % (name, cid)] = id
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
    conn.close()
    store.close()
    with open(os.path.join(HERE, "release1.json"), "w", encoding="utf-8") as f:
        json.dump({"messages": dump, "cids": cids}, f, ensure_ascii=False, indent=0)


if __name__ == "__main__":
    main()
