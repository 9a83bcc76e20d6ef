"""The input limits of the settings, for the parsers of outside input: uploaded
workbooks and documents (their size, and the zip checks of core/safezip.py before
anything is unpacked), pushed CAP, region packs. Every limit is a setting with a
default (settings.py, "Input limits"); every error is in Chinese and names the file
and what was exceeded."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from yingji.core import safezip

MB = safezip.MB


def setting(name: str) -> int:
    """An integer limit from the settings (with the shipped default)."""
    return int(getattr(settings, name, DEFAULTS[name]))


DEFAULTS = {
    "YINGJI_XLSX_MAX_BYTES": 20 * MB,
    "YINGJI_PLAN_MAX_BYTES": 20 * MB,
    "YINGJI_CAP_MAX_BYTES": 5 * MB,
    "YINGJI_REGIONPACK_MAX_BYTES": 100 * MB,
    "YINGJI_READINGS_MAX_BYTES": 200 * MB,
    "YINGJI_ZIP_MAX_UNPACKED_BYTES": safezip.Limits.max_unpacked,
    "YINGJI_ZIP_MAX_RATIO": safezip.Limits.max_ratio,
    "YINGJI_ZIP_MAX_MEMBERS": safezip.Limits.max_members,
}


def zip_limits(max_bytes_setting: str = "YINGJI_XLSX_MAX_BYTES") -> safezip.Limits:
    """The zip checks for one kind of upload (its own size limit, the shared rest)."""
    return safezip.Limits(
        max_bytes=setting(max_bytes_setting),
        max_unpacked=setting("YINGJI_ZIP_MAX_UNPACKED_BYTES"),
        max_ratio=setting("YINGJI_ZIP_MAX_RATIO"),
        max_members=setting("YINGJI_ZIP_MAX_MEMBERS"),
    )


def upload_too_large(upload: Any, max_bytes_setting: str = "YINGJI_XLSX_MAX_BYTES") -> str | None:
    """The error for an uploaded file over its limit (checked from its size, before
    it is read), else None."""
    limit = setting(max_bytes_setting)
    size = getattr(upload, "size", None)
    if size is None or size <= limit:
        return None
    name = getattr(upload, "name", None) or "上传的文件"
    return f"{name}:文件过大,{safezip.too_big(size, limit)}"


def size_problem(
    size: int, name: str, max_bytes_setting: str = "YINGJI_XLSX_MAX_BYTES"
) -> str | None:
    """The error for `size` bytes of the file `name` over its limit, else None."""
    limit = setting(max_bytes_setting)
    if size <= limit:
        return None
    return f"{name}:文件过大,{safezip.too_big(size, limit)}"


def archive_problem(
    data: bytes, name: str, max_bytes_setting: str = "YINGJI_XLSX_MAX_BYTES"
) -> str | None:
    """The error for a zip-based upload (.xlsx, .docx) over any limit (its size,
    then the checks of core/safezip.py, before anything is unpacked), else None.
    A file that is not a zip at all is left to the reader's own error."""
    try:
        safezip.check(data, name, zip_limits(max_bytes_setting))
    except safezip.NotAZipError:
        return None
    except safezip.SafeZipError as exc:
        return str(exc)
    return None
