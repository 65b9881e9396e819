"""Input: the numbers people and peers type (change numbers, account ids), read strictly.

`str.isdigit()` is true for `²` and `١٢٣`, which int() refuses or reads as another
number, and a long digit string fits no database column: every number typed into
a URL, a CLI argument or an event goes through ascii_int with its column's bound.
"""

from __future__ import annotations

CHANGE_NUMBER_MAX = 2**31 - 1  # change.number is a 32-bit integer column (PostgreSQL)
ACCOUNT_ID_MAX = 2**63 - 1  # account ids are 64-bit (BigInteger)


def ascii_int(text: str, maximum: int) -> int | None:
    """The value of `text` when it is ASCII digits only and at most `maximum`, else None."""
    if not text or not text.isascii() or not text.isdigit() or len(text) > 20:
        return None
    value = int(text)
    return value if value <= maximum else None
