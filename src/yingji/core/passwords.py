"""Password rules (pure: no Django): character classes and age.

The classes are upper-case letters, lower-case letters, digits and everything
else (punctuation, spaces, Chinese characters). 等保 2.0 asks for complexity:
by default three of the four, with at least 12 characters (settings).
"""

from __future__ import annotations

import datetime as dt

CLASS_NAMES = ("大写字母", "小写字母", "数字", "符号")


def classes(password: str) -> set[str]:
    found = set()
    for c in password:
        if c.isascii() and c.isupper():
            found.add("大写字母")
        elif c.isascii() and c.islower():
            found.add("小写字母")
        elif c.isdigit():
            found.add("数字")
        else:
            found.add("符号")
    return found


def class_problem(password: str, min_classes: int) -> str | None:
    """A Chinese message when `password` mixes fewer than `min_classes` classes."""
    have = classes(password)
    if len(have) >= min_classes:
        return None
    missing = "、".join(n for n in CLASS_NAMES if n not in have)
    return (
        f"密码须包含大写字母、小写字母、数字、符号中的至少 {min_classes} 类"
        f"(当前 {len(have)} 类,可加入:{missing})"
    )


def expired(changed_at: dt.datetime | None, now: dt.datetime, max_age_days: int) -> bool:
    """Is a password set at `changed_at` too old? Never with max_age_days 0; a
    password whose age is unknown is not expired (its age starts when first seen)."""
    if max_age_days <= 0 or changed_at is None:
        return False
    return now - changed_at > dt.timedelta(days=max_age_days)


def days_left(changed_at: dt.datetime | None, now: dt.datetime, max_age_days: int) -> int | None:
    if max_age_days <= 0 or changed_at is None:
        return None
    return max_age_days - (now - changed_at).days
