"""Turning numbers into names with the (name, value) tables of this package.

Two shapes of constant exist in the kernel ABI:
- bit sets (clone flags, MS_*): `decode_flags` lists the names of the bits that are set and keeps whatever no
  name covers as one hex remainder, so no bit is ever silently dropped (`CLONE_NEWNS|0x80000000`);
- enumerations (prctl options, seccomp operations): `decode_value` returns the one name, or the number as text.

Zero decodes to an empty list: "no flag set". Renderers print an empty list as `0`, as strace does.
"""

from __future__ import annotations

#: A constant family: (name, value) pairs. For bit sets, an entry that covers several bits (O_SYNC, O_TMPFILE)
#: must come before the entries for its parts; entries whose value is 0 never match a bit set.
Table = tuple[tuple[str, int], ...]

_U64 = (1 << 64) - 1


def decode_flags(value: int, table: Table) -> list[str]:
    """The names of the bits of `value` in table order, then any leftover bits as one hex string.

    >>> decode_flags(0x80020000, (("CLONE_NEWNS", 0x20000),))
    ['CLONE_NEWNS', '0x80000000']
    """
    rest = value & _U64
    names: list[str] = []
    for name, bits in table:
        if bits and rest & bits == bits:
            names.append(name)
            rest &= ~bits
    if rest:
        names.append(hex(rest))
    return names


def decode_value(value: int, table: Table, *, unknown: str = "dec") -> str:
    """The name of an enumeration value; an unknown value as text in the base `unknown` names: "dec", "hex"
    (0x1f) or "oct" (C style, 0170000)."""
    for name, known in table:
        if known == value:
            return name
    if unknown == "hex":
        return hex(value)
    if unknown == "oct":
        return f"0{value:o}"
    return str(value)


def value_of(name: str, table: Table) -> int:
    """The value of a name in a table (KeyError if absent): the inverse of decode_value."""
    for known, value in table:
        if known == name:
            return value
    raise KeyError(name)


def encode_flags(names: list[str] | tuple[str, ...], table: Table) -> int:
    """The number a decoded flag list stands for (hex remainders included): the inverse of decode_flags."""
    value = 0
    for name in names:
        value |= int(name, 16) if name.startswith("0x") else value_of(name, table)
    return value
