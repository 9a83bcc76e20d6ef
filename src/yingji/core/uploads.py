"""What an uploaded file is, by its content, never by its name (pure: no Django).

`sniff` reads the first bytes (and, for ZIP-based formats, the archive's list of
members, never a member's content: nothing is unpacked) and names the type;
`inspect` refuses a file over the size limit or of a type not allowed, with a
Chinese message naming both. A file named report.pdf that is an HTML page is
"unknown" and refused; a photo named .png that is a JPEG is a JPEG and stored as
.jpg. SVG is never allowed (it may carry script).

Images and PDF are shown in the browser (`INLINE`); every other type is served
as an attachment (core/media.py).
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import BinaryIO


@dataclass(frozen=True)
class FileType:
    key: str
    content_type: str
    extensions: tuple[str, ...]  # the first is the canonical one
    label: str


TYPES = {
    t.key: t
    for t in (
        FileType("jpeg", "image/jpeg", ("jpg", "jpeg"), "JPEG 图片"),
        FileType("png", "image/png", ("png",), "PNG 图片"),
        FileType("gif", "image/gif", ("gif",), "GIF 图片"),
        FileType("webp", "image/webp", ("webp",), "WebP 图片"),
        FileType("heic", "image/heic", ("heic", "heif"), "HEIC 照片"),
        FileType("pdf", "application/pdf", ("pdf",), "PDF 文档"),
        FileType(
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ("docx",),
            "Word 文档",
        ),
        FileType(
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ("xlsx",),
            "Excel 表格",
        ),
        FileType(
            "pptx",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            ("pptx",),
            "PowerPoint 演示文稿",
        ),
        # Word, Excel and PowerPoint 97-2003 share one container (OLE2).
        FileType("ole", "application/x-ole-storage", ("doc", "xls", "ppt"), "Office 97-2003 文档"),
        FileType("ofd", "application/ofd", ("ofd",), "OFD 版式文件"),
        FileType("mp4", "video/mp4", ("mp4", "mov", "m4v"), "MP4 视频"),
    )
}
INLINE = frozenset({"jpeg", "png", "gif", "webp", "pdf"})

_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_MP4_BRANDS = {
    b"isom",
    b"iso2",
    b"iso4",
    b"iso5",
    b"iso6",
    b"mp41",
    b"mp42",
    b"avc1",
    b"M4V ",
    b"qt  ",
    b"3gp4",
    b"3gp5",
    b"3g2a",
    b"dash",
}
HEAD_BYTES = 1024


def _sniff_head(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _HEIC_BRANDS:
            return "heic"
        if brand in _MP4_BRANDS:
            return "mp4"
        return None
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    return None


def _sniff_zip(fileobj: BinaryIO) -> str | None:
    """An Office Open XML document or an OFD file: told apart by the archive's
    member names (its central directory), without unpacking anything."""
    try:
        with zipfile.ZipFile(fileobj) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        return None
    if "OFD.xml" in names:
        return "ofd"
    if "[Content_Types].xml" not in names:
        return None
    for prefix, key in (("word/", "docx"), ("xl/", "xlsx"), ("ppt/", "pptx")):
        if any(n.startswith(prefix) for n in names):
            return key
    return None


def sniff(fileobj: BinaryIO) -> str | None:
    """The type key of a file (a seekable binary file object, left at its start),
    or None when it is none of TYPES."""
    fileobj.seek(0)
    head = fileobj.read(HEAD_BYTES)
    fileobj.seek(0)
    if head.startswith(b"PK\x03\x04"):
        kind = _sniff_zip(fileobj)
        fileobj.seek(0)
        return kind
    return _sniff_head(head)


def safe_name(name: str, file_type: FileType) -> str:
    """The stored name: the upload's base name (no directories, no control
    characters), with an extension of the type it really is."""
    base = posixpath.basename((name or "").replace("\\", "/"))
    base = "".join(c for c in unicodedata.normalize("NFC", base) if c.isprintable())
    base = re.sub(r"[\s/]+", "_", base).strip("._") or "文件"
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    if ext.lower() not in file_type.extensions:
        ext = file_type.extensions[0]
    return f"{stem[:80]}.{ext.lower()}"


class UploadRefused(ValueError):
    """An upload refused; the message says why, in Chinese."""


@dataclass(frozen=True)
class Accepted:
    file_type: FileType
    name: str  # the name to store it under


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f}".rstrip("0").rstrip(".")


def inspect(
    fileobj: BinaryIO, name: str, size: int, *, allowed: list[str] | tuple[str, ...], max_bytes: int
) -> Accepted:
    """Accept a file of an allowed type within the size limit, or raise UploadRefused."""
    shown = posixpath.basename((name or "").replace("\\", "/"))[:80] or "文件"
    if size > max_bytes:
        raise UploadRefused(f"文件「{shown}」有 {_mb(size)} MB,超过上限 {_mb(max_bytes)} MB")
    if size == 0:
        raise UploadRefused(f"文件「{shown}」是空文件")
    key = sniff(fileobj)
    if key is None or key not in allowed:
        found = TYPES[key].label if key else "无法识别的类型"
        allowed_text = "、".join(dict.fromkeys(TYPES[k].label for k in allowed if k in TYPES))
        raise UploadRefused(
            f"文件「{shown}」按内容识别为{found},不是允许上传的类型(允许:{allowed_text})"
        )
    return Accepted(TYPES[key], safe_name(name, TYPES[key]))
