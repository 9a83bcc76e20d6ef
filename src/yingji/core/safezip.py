"""Checks on a zip archive (.xlsx, .docx) before anything in it is unpacked
(pure; no Django).

A small zip can unpack to gigabytes: a 900 KB .xlsx whose shared strings unpack to
400 MB took the server to 1.74 GB. `check` reads only the archive's central
directory (the list of members with their packed and unpacked sizes) and refuses
the archive when it is larger than `max_bytes`, holds more than `max_members`
members, unpacks to more than `max_unpacked` bytes in all, or when a member (or
the whole) unpacks to more than `max_ratio` times its packed size (members that
unpack to less than `ratio_floor` are not held to the ratio: tiny parts of an
Office file compress well and are harmless).

The declared sizes can be trusted as bounds: Python's zipfile (which openpyxl,
python-docx and risk/xlsxread.py all read through) unpacks a member only up to the
size its directory entry declares, and fails the CRC check when the data goes on.
So an archive that passes `check` unpacks to at most `max_unpacked` bytes, whatever
its content; overlapping members that reuse one compressed stream count once per
entry and are caught by the same sum.

Every error is a `SafeZipError` in Chinese naming the file and the limit exceeded.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass
from typing import BinaryIO

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What an archive may be; the defaults are the settings' defaults
    (YINGJI_ZIP_MAX_UNPACKED_BYTES, YINGJI_ZIP_MAX_RATIO, YINGJI_ZIP_MAX_MEMBERS; the
    archive's own size is a setting of each kind of upload)."""

    max_bytes: int = 20 * MB
    max_unpacked: int = 256 * MB
    max_ratio: int = 100
    max_members: int = 10_000
    ratio_floor: int = MB


class SafeZipError(ValueError):
    """The archive is refused (a limit exceeded) or is not a zip at all."""


class NotAZipError(SafeZipError):
    """The bytes are not a readable zip archive."""


def _size(n: int) -> str:
    return f"{n:,} 字节({n / MB:.1f} MB)"


def too_big(size: int, limit: int) -> str:
    """「12,345,678 字节(11.8 MB),上限 …」: the words of every size error."""
    return f"{_size(size)},上限 {_size(limit)}"


def check(source: bytes | BinaryIO, name: str, limits: Limits = Limits()) -> list[zipfile.ZipInfo]:
    """Check an archive given as bytes or a seekable binary file; returns its members.
    Raises SafeZipError naming `name` and what was exceeded; nothing is unpacked."""
    in_memory = isinstance(source, bytes | bytearray)
    start = 0 if in_memory else source.tell()
    size = len(source) if in_memory else source.seek(0, io.SEEK_END) - start
    if size > limits.max_bytes:
        raise SafeZipError(f"{name}:文件过大,{too_big(size, limits.max_bytes)}")
    try:
        with zipfile.ZipFile(io.BytesIO(source) if in_memory else source) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, ValueError):
        raise NotAZipError(f"{name}:不是有效的 zip 压缩文件(Office 文件即 zip)") from None
    finally:
        if not in_memory:
            source.seek(start)
    if len(members) > limits.max_members:
        raise SafeZipError(
            f"{name}:压缩包内有 {len(members):,} 个文件,上限 {limits.max_members:,} 个"
        )
    total = 0
    for info in members:
        total += info.file_size
        if info.file_size >= limits.ratio_floor:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > limits.max_ratio:
                raise SafeZipError(
                    f"{name}:其中 {info.filename} 解压后 {_size(info.file_size)},"
                    f"压缩比 {ratio:,.0f}:1,超过上限 {limits.max_ratio}:1(疑似压缩炸弹,未解压)"
                )
    if total > limits.max_unpacked:
        raise SafeZipError(
            f"{name}:解压后共 {_size(total)},超过上限 {_size(limits.max_unpacked)}(未解压)"
        )
    if total >= limits.ratio_floor and total / max(size, 1) > limits.max_ratio:
        raise SafeZipError(
            f"{name}:解压后共 {_size(total)},是文件大小的 {total / max(size, 1):,.0f} 倍,"
            f"超过上限 {limits.max_ratio} 倍(疑似压缩炸弹,未解压)"
        )
    return members
