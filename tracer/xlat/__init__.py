"""Kernel constant tables, one module per family, as plain data.

Every table is a tuple of (name, value) pairs with explicit values and a comment naming the kernel header the
values come from (tests/test_xlat.py checks them against Python's own constants and, where installed, the kernel
headers). `tracer.xlat.flags` turns numbers into names with them.
"""
