"""Phone numbers as people other than their owner see them."""

from __future__ import annotations

from app.core.sql import sql_string

# Kept as they are when a number is masked; everything else counts as a digit.
PHONE_SEPARATORS = frozenset("+-() ")


def mask_phone(phone: str | None) -> str | None:
    """Shows at most a third of a number's digits, rounded down: the larger half of them at the
    end (the 尾号 people recognise a number by), the rest at the start; separators stay. So
    ``13804781234`` → ``1********34``, ``6617708`` → ``6*****8``, ``12345`` → ``****5``: enough
    for staff to tell numbers apart, never enough to call one or to guess it."""
    if not phone:
        return phone
    if phone.isdigit():  # the usual number: the same rule, by slicing (a page masks fifty)
        shown = len(phone) // 3
        at_end = (shown + 1) // 2
        hidden = len(phone) - shown
        return phone[: shown - at_end] + "*" * hidden + phone[len(phone) - at_end :]
    digits = [i for i, char in enumerate(phone) if char not in PHONE_SEPARATORS]
    shown = len(digits) // 3
    at_end = (shown + 1) // 2
    visible = set(digits[: shown - at_end]) | set(digits[len(digits) - at_end :])
    return "".join(
        char if char in PHONE_SEPARATORS or i in visible else "*" for i, char in enumerate(phone)
    )


def masked_phone_sql(phone: str) -> str:
    """``mask_phone`` in SQL (PostgreSQL), over the SQL of a text ``phone``: for a statement that
    writes numbers row by row (the ledger, app/stats/ledger_sql.py). A number of digits alone
    is sliced as ``mask_phone`` slices it; one with separators is masked a character at a time.
    Held equal to ``mask_phone`` by tests/core/test_phones.py."""
    length = f"length({phone})"
    shown = f"({length} / 3)"
    at_end = f"(({length} / 3 + 1) / 2)"
    sliced = (
        f"left({phone}, {shown} - {at_end}) || repeat('*', {length} - {shown}) "
        f"|| right({phone}, {at_end})"
    )
    separators = "'{" + ",".join(f'"{char}"' for char in sorted(PHONE_SEPARATORS)) + "}'::text[]"
    is_digit = f"NOT (c.ch = ANY ({separators}))"
    # Each character with how many digits come up to it (``k``) and in all (``d``): a digit
    # shows when among the first d/3 - e or the last e, e = (d/3 + 1)/2.
    by_character = (
        f"(SELECT string_agg(CASE WHEN NOT is_digit OR k <= d / 3 - (d / 3 + 1) / 2 "
        f"OR k > d - (d / 3 + 1) / 2 THEN ch ELSE '*' END, '' ORDER BY i) "
        f"FROM (SELECT c.ch, c.i, {is_digit} AS is_digit, "
        f"count(*) FILTER (WHERE {is_digit}) OVER (ORDER BY c.i) AS k, "
        f"count(*) FILTER (WHERE {is_digit}) OVER () AS d "
        f"FROM unnest(string_to_array({phone}, NULL)) WITH ORDINALITY AS c(ch, i)) AS digits)"
    )
    without_separators = f"translate({phone}, {sql_string(''.join(sorted(PHONE_SEPARATORS)))}, '')"
    return (
        f"CASE WHEN {phone} IS NULL THEN NULL WHEN {without_separators} = {phone} "
        f"THEN {sliced} ELSE coalesce({by_character}, '') END"
    )
