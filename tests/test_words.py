"""The search word rule (realtime.words), pure."""

import sys
import unicodedata

import pytest

from realtime import words as rule


def test_a_word_is_a_run_of_letters_and_digits_exactly():
    """The word pattern matches exactly the code points of categories L* and N*."""
    for cp in range(sys.maxunicode + 1):
        ch = chr(cp)
        expected = unicodedata.category(ch)[0] in "LN"
        assert bool(rule._WORD.fullmatch(ch)) is expected, hex(cp)


@pytest.mark.parametrize("text, expected", [
    ("Hello, World!", ["hello", "world"]),
    ("don't stop", ["don", "t", "stop"]),
    ("snake_case kebab-case dot.ted", ["snake", "case", "kebab", "case", "dot", "ted"]),
    ("x²+½ Ⅻ 42", ["x²", "½", "ⅻ", "42"]),
    ("日本語のテキスト", ["日本語のテキスト"]),
    ("emoji😀between", ["emoji", "between"]),
    ("cafe\u0301", ["cafe"]),                 # a combining mark (Mn) is not a letter
    ("Straße ΟΔΟΣ", ["strasse", "οδοσ"]),     # case folding, not lower()
    ("   ", []),
])
def test_words(text, expected):
    """Words are split on everything but letters and digits, then case-folded."""
    assert rule.words(text) == expected


@pytest.mark.parametrize("query, text, hit", [
    ("hel wor", "Hello World", True),
    ("wor hel", "Hello World", True),        # order does not matter
    ("ello", "Hello", False),                # the start of a word only
    ("hello world", "hello", False),         # every word of the query
    ("ÉCOLE", "une école", True),
    ("strasse", "Straße", True),
    ("cafe", "café", False),                 # no accent folding
    ("café", "CAFÉ au lait", True),
    ("t", "don't", True),
    ("a", "b_a", True),
    ("42", "answer: 42!", True),
    ("ΟΔΟΣΤ", "οδοστρωμα", True),            # sigma folds the same anywhere
])
def test_matches(query, text, hit):
    """A text matches when each query word starts one of its words."""
    assert rule.matches(rule.words(query), text) is hit


def test_joined_is_what_the_index_holds():
    """joined() is the words separated by single spaces."""
    assert rule.joined("  Hi,  there!! ") == "hi there"
