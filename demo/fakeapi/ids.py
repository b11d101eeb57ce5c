"""Check digits, so fake ORCIDs and ISSNs pass the validators a real client may apply."""

from __future__ import annotations


def orcid(n: int) -> str:
    """A valid ORCID iD (ISO 7064 MOD 11-2 check digit) built from the integer ``n``.

    >>> orcid(21825009)
    '0000-0002-1825-0097'
    """
    base = f"{n % 10**15:015d}"
    total = 0
    for ch in base:
        total = (total + int(ch)) * 2
    check = (12 - total % 11) % 11
    digits = base + ("X" if check == 10 else str(check))
    return "-".join(digits[i : i + 4] for i in range(0, 16, 4))


def issn(n: int) -> str:
    """A valid ISSN (mod 11 check digit) from the integer ``n``, e.g. ``issn(902444) == '0902-4441'``."""
    base = f"{n % 10**7:07d}"
    total = sum(int(ch) * w for ch, w in zip(base, range(8, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    digits = base + ("X" if check == 10 else str(check))
    return f"{digits[:4]}-{digits[4:]}"
