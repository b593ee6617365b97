"""Test doubles for the decoders: this process's own memory stands in for a stopped tracee.

`LocalMemory` implements the TraceeMemory protocol over /proc/self/mem (so a bad address fails with an error
instead of crashing the test) and /proc/self/fd. `Arena` builds real C data with ctypes (strings, argv arrays,
structs) and keeps it alive, handing out the addresses a tracee would pass in its registers.
"""

from __future__ import annotations

import ctypes
import os
import struct
import threading
from typing import Any

from tracer.decoders import SYSCALL_NRS_BY_NAME
from tracer.decoders.base import SyscallContext

PAGE = os.sysconf("SC_PAGE_SIZE")


class LocalMemory:
    """TraceeMemory over the test process itself. `fake_fd_paths` overrides what fd_path reports for an fd."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self._mem = os.open("/proc/self/mem", os.O_RDONLY | os.O_CLOEXEC)
        self.fake_fd_paths: dict[int, str] = {}

    def close(self) -> None:
        os.close(self._mem)

    def read_bytes(self, address: int, size: int) -> bytes | None:
        if size == 0:
            return b""
        try:
            data = os.pread(self._mem, size, address)
        except (OSError, OverflowError, ValueError):
            return None
        return data if len(data) == size else None

    def read_string(self, address: int, limit: int = 4096) -> str | None:
        out = bytearray()
        while len(out) < limit:
            # Never read across a page boundary in one go: the next page may be unmapped.
            chunk = self.read_bytes(address, min(PAGE - address % PAGE, limit - len(out)))
            if chunk is None:
                return None
            end = chunk.find(b"\0")
            if end >= 0:
                out += chunk[:end]
                break
            out += chunk
            address += len(chunk)
        return out.decode("utf-8", "backslashreplace")

    def read_string_array(
        self, address: int, max_items: int = 4096, max_bytes: int = 256 * 1024
    ) -> list[str] | None:
        items: list[str] = []
        total = 0
        for index in range(max_items):
            raw = self.read_bytes(address + 8 * index, 8)
            if raw is None:
                return None
            pointer = struct.unpack("<Q", raw)[0]
            if pointer == 0:
                break
            text = self.read_string(pointer)
            if text is None:
                return None
            items.append(text)
            total += len(text)
            if total > max_bytes:
                break
        return items

    def fd_path(self, fd: int) -> str | None:
        if fd in self.fake_fd_paths:
            return self.fake_fd_paths[fd]
        try:
            return os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            return None

    def cwd(self) -> str | None:
        return os.getcwd()


class Arena:
    """Keeps ctypes objects alive and returns their addresses."""

    def __init__(self) -> None:
        self._keep: list[Any] = []

    def keep(self, obj: Any) -> int:
        self._keep.append(obj)
        return ctypes.addressof(obj)

    def cstr(self, text: str | bytes) -> int:
        """A NUL-terminated string."""
        data = text.encode() if isinstance(text, str) else text
        return self.keep(ctypes.create_string_buffer(data))

    def buffer(self, data: bytes) -> int:
        """Bytes with no terminator added."""
        return self.keep((ctypes.c_char * max(len(data), 1)).from_buffer_copy(data or b"\0"))

    def argv(self, items: list[str | bytes]) -> int:
        """A NULL-terminated array of string pointers."""
        array = (ctypes.c_void_p * (len(items) + 1))(*[self.cstr(item) for item in items], None)
        return self.keep(array)

    def ints(self, values: list[int], ctype: Any = ctypes.c_int) -> int:
        return self.keep((ctype * len(values))(*values))

    def struct(self, obj: ctypes.Structure) -> int:
        return self.keep(obj)


class CloneArgs(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_uint64)
        for name in (
            "flags",
            "pidfd",
            "child_tid",
            "parent_tid",
            "exit_signal",
            "stack",
            "stack_size",
            "tls",
            "set_tid",
            "set_tid_size",
            "cgroup",
        )
    ]


class SockaddrUn(ctypes.Structure):
    _fields_ = [("sun_family", ctypes.c_ushort), ("sun_path", ctypes.c_char * 108)]


class SockaddrIn(ctypes.Structure):
    _fields_ = [
        ("sin_family", ctypes.c_ushort),
        ("sin_port", ctypes.c_uint16),
        ("sin_addr", ctypes.c_uint8 * 4),
        ("sin_zero", ctypes.c_uint8 * 8),
    ]


class CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class MountAttr(ctypes.Structure):
    _fields_ = [(name, ctypes.c_uint64) for name in ("attr_set", "attr_clr", "propagation", "userns_fd")]


def make_ctx(name: str, args: tuple[int, ...], memory: Any, *, show_env: bool = False) -> SyscallContext:
    """A syscall at its entry stop, made by this very thread."""
    registers = tuple(value & 0xFFFFFFFFFFFFFFFF for value in args) + (0,) * (6 - len(args))
    return SyscallContext(
        name=name,
        nr=SYSCALL_NRS_BY_NAME[name],
        pid=os.getpid(),
        tid=threading.get_native_id(),
        args=registers,
        memory=memory,
        show_env=show_env,
    )
