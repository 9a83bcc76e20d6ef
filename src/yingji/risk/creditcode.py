"""Unified social credit code (统一社会信用代码, GB 32100-2015): pure validation.

18 characters from the 31-character set 0-9 A-H J-N P-R T U W-Y (no I, O, Z, S, V):
1 registering authority, 1 organisation type, 6 administrative division code,
9 organisation code, 1 check character. The check character makes
sum(value(c_i) * 3^i mod 31) + value(check) ≡ 0 (mod 31).
"""

from __future__ import annotations

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
VALUES = {c: i for i, c in enumerate(CHARSET)}
WEIGHTS = [pow(3, i, 31) for i in range(17)]


def check_char(first17: str) -> str:
    """The check character for the first 17 characters (ValueError if any is invalid)."""
    if len(first17) != 17:
        raise ValueError("须为17位")
    total = 0
    for i, c in enumerate(first17):
        if c not in VALUES:
            raise ValueError(f"第{i + 1}位“{c}”不是合法字符")
        total += VALUES[c] * WEIGHTS[i]
    return CHARSET[(31 - total % 31) % 31]


def problem(code: str) -> str | None:
    """Why `code` is not a valid credit code (Chinese), or None when it is."""
    code = (code or "").strip().upper()
    if len(code) != 18:
        return f"统一社会信用代码须为18位,实为{len(code)}位"
    for i, c in enumerate(code):
        if c not in VALUES:
            return f"统一社会信用代码第{i + 1}位“{c}”不是合法字符(不含I、O、Z、S、V)"
    if not code[2:8].isdigit():
        return "统一社会信用代码第3-8位须为行政区划代码(数字)"
    expected = check_char(code[:17])
    if code[17] != expected:
        return f"统一社会信用代码校验位错误(应为“{expected}”)"
    return None


def normalise(code: str) -> str:
    """Upper-case, stripped form used for storage and matching."""
    return (code or "").strip().upper()


def make(prefix: str, serial: int) -> str:
    """A valid code from a prefix (registration + type + 6-digit division, 8 chars)
    and a serial number for the 9-character organisation code (demo and benchmark data)."""
    body = ""
    n = serial
    for _ in range(9):
        n, r = divmod(n, 31)
        body = CHARSET[r] + body
    first17 = prefix + body
    return first17 + check_char(first17)
