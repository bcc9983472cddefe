"""Write tests/data/pg_release1.sql and pg_release1_append.sql: the FIRST PostgreSQL
schema (version 1) and its append statement, as the code on main had them.

Made once, by ``python3 tests/data/make_pg_release1_sql.py`` at commit b18fe20
(main before the PostgreSQL store moved to the second-release interface).
Re-running it with later code would capture a newer schema, so the committed
files are the fixture; tests/test_store_pg_migration.py builds a version-1
database with them, writes messages with the version-1 append statement and
opens it with the current store.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))

from realtime.store import pgsql  # noqa: E402


def main():
    assert pgsql.LATEST == 1, "run this at the commit named above"
    [(version, what, statements)] = pgsql.MIGRATIONS
    with open(os.path.join(HERE, "pg_release1.sql"), "w", encoding="utf-8") as f:
        f.write("-- The version-1 PostgreSQL schema of realtime (made by make_pg_release1_sql.py).\n")
        f.write("-- Statements end with a line holding only ';'.\n")
        for statement in [pgsql.SCHEMA_TABLE] + statements + [
                "INSERT INTO realtime_schema (version, what) VALUES (%d, '%s')"
                % (version, what.replace("'", "''"))]:
            f.write(statement.strip() + "\n;\n")
    with open(os.path.join(HERE, "pg_release1_append.sql"), "w", encoding="utf-8") as f:
        f.write(pgsql.APPEND.strip() + "\n")


if __name__ == "__main__":
    main()
