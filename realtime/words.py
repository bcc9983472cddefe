"""The search word rule, pure: what a word is and when a message matches.

A word is a maximal run of Unicode letters and digits (categories ``L*``
and ``N*``), in the query as in the text.  A message matches a query when
every query word is the start of some word of the text, compared by Unicode
case folding (``str.casefold``: ``ÉCOLE`` finds ``école``, ``strasse``
finds ``Straße``; no other folding, so ``cafe`` does not find ``café``)::

    q = words("Hello wor")              # ["hello", "wor"]
    matches(q, "hello, World!")         # True
"""

import re

# [^\W_] is exactly the code points of categories L* and N* (checked over
# every code point in tests/test_words.py).
_WORD = re.compile(r"[^\W_]+")


def words(text):
    """The words of ``text``, case-folded, in order."""
    return [w.casefold() for w in _WORD.findall(text)]


def joined(text):
    """The words of ``text`` as one space-separated string (what the SQLite index holds)."""
    # Case folding works code point by code point (and keeps the space), so
    # one fold of the joined words equals folding each word.
    return " ".join(_WORD.findall(text)).casefold()


def matches(query, text):
    """Whether every word of ``query`` (from :func:`words`) starts a word of ``text``."""
    folded = text.casefold()
    for q in query:
        # Case folding works code point by code point, so a matching word's
        # folded form is a substring of the folded text: a cheap first test.
        if q not in folded:
            return False
    have = words(text)
    return all(any(w.startswith(q) for w in have) for q in query)
