"""Phone numbers as people other than their owner see them."""

from __future__ import annotations

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
