"""Reading a stopped tracee's memory and file descriptors.

process_vm_readv reads a whole string or array in one system call; where it is refused (some hardened kernels,
or pages the kernel will not map for it) /proc/PID/mem is the fallback. Nothing here raises for unreadable memory:
callers get None.
"""

from __future__ import annotations

import ctypes
import os
import struct

_libc = ctypes.CDLL(None, use_errno=True)


class _IOVec(ctypes.Structure):
    _fields_ = [("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t)]


_process_vm_readv = _libc.process_vm_readv
_process_vm_readv.argtypes = [
    ctypes.c_int,
    ctypes.POINTER(_IOVec),
    ctypes.c_ulong,
    ctypes.POINTER(_IOVec),
    ctypes.c_ulong,
    ctypes.c_ulong,
]
_process_vm_readv.restype = ctypes.c_ssize_t

PAGE = 4096
WORD = struct.Struct("<Q")


def decode_text(raw: bytes) -> str:
    """Bytes from a tracee as text: UTF-8 where valid, \\xNN escapes for anything else (lossless to read)."""
    return raw.decode("utf-8", errors="backslashreplace")


class ProcessMemory:
    """Read-only access to one stopped thread's address space (the TraceeMemory protocol of the decoders)."""

    def __init__(self, pid: int, tgid: int | None = None) -> None:
        self.pid = pid
        self.tgid = tgid if tgid is not None else pid

    def read_bytes(self, address: int, size: int) -> bytes | None:
        if address == 0 or size <= 0:
            return None if address == 0 else b""
        buffer = ctypes.create_string_buffer(size)
        local = _IOVec(ctypes.cast(buffer, ctypes.c_void_p), size)
        remote = _IOVec(address, size)
        got = _process_vm_readv(self.pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
        if got == size:
            return buffer.raw
        if got > 0:
            return buffer.raw[:got]
        return self._read_proc_mem(address, size)

    def _read_proc_mem(self, address: int, size: int) -> bytes | None:
        try:
            with open(f"/proc/{self.pid}/mem", "rb", buffering=0) as mem:
                mem.seek(address)
                data = mem.read(size)
        except (OSError, OverflowError, ValueError):
            return None
        return data or None

    def _read_until_nul(self, address: int, limit: int) -> bytes | None:
        """Read up to `limit` bytes stopping at NUL, in chunks that never cross a page boundary unread."""
        out = bytearray()
        cursor = address
        while len(out) < limit:
            chunk = min(PAGE - (cursor % PAGE), limit - len(out))
            data = self.read_bytes(cursor, chunk)
            if not data:
                return bytes(out) if out else None
            nul = data.find(b"\0")
            if nul >= 0:
                out += data[:nul]
                return bytes(out)
            out += data
            cursor += len(data)
        return bytes(out)

    def read_string(self, address: int, limit: int = 4096) -> str | None:
        if address == 0:
            return None
        raw = self._read_until_nul(address, limit)
        if raw is None:
            return None
        text = decode_text(raw)
        return text if len(raw) < limit else text + "..."

    def read_string_array(self, address: int, max_items: int = 4096, max_bytes: int = 256 * 1024) -> list[str] | None:
        if address == 0:
            return None
        items: list[str] = []
        used = 0
        cursor = address
        while len(items) < max_items:
            block = self.read_bytes(cursor, 8 * 64)
            if not block or len(block) < 8:
                return items or None
            for (pointer,) in WORD.iter_unpack(block[: len(block) - len(block) % 8]):
                if pointer == 0:
                    return items
                text = self.read_string(pointer, limit=min(128 * 1024, max(1, max_bytes - used)))
                text = "<unreadable>" if text is None else text
                items.append(text)
                used += len(text)
                if used >= max_bytes or len(items) >= max_items:
                    items.append("...")
                    return items
            cursor += len(block) - len(block) % 8
        return items

    def fd_path(self, fd: int) -> str | None:
        if fd < 0:
            return None
        try:
            return os.readlink(f"/proc/{self.pid}/fd/{fd}")
        except OSError:
            return None

    def cwd(self) -> str | None:
        try:
            return os.readlink(f"/proc/{self.pid}/cwd")
        except OSError:
            return None
