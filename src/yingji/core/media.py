"""Stored uploads: checked on the way in, served only through the application.

In: `check_upload(upload, kind)` applies the kind's size cap and allowed types
(settings.YINGJI_UPLOADS; the type is read from the content, core/uploads.py)
and gives the file its safe name, or raises ValidationError naming the file.

Out: `/media/<name>` (the URL every FileField's .url gives) is this module's
view. The module that owns a folder of uploads registers who may read a file in
it from its AppConfig.ready (like nav.py and links.py):

    media.register("risk/evidence/", lambda user, name: visible_hazards(user)
                   .filter(evidence__file=name).exists())

A file nobody registered, a name no record holds, or a record the user may not
see is a 404 (the same answer as for a record out of scope). Images and PDF are
shown inline; anything else is an attachment, with a policy that runs nothing.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404

from yingji.core import uploads

# (user, stored name) → may the user read it (a record with this file, in scope)
Reader = Callable[[Any, str], bool]
_READERS: dict[str, Reader] = {}


def register(prefix: str, may_read: Reader) -> None:
    """Files stored under `prefix` (a FileField's upload_to folder) are read by
    whoever `may_read(user, name)` allows."""
    _READERS[prefix] = may_read


def limits(kind: str) -> tuple[list[str], int]:
    rules = settings.YINGJI_UPLOADS[kind]
    return list(rules["types"]), int(rules["max_mb"]) * 1024 * 1024


def check_upload(upload: Any, kind: str, *, field: str = "file") -> Any:
    """Refuse `upload` (a Django UploadedFile) over the size cap of `kind` or of a
    type not allowed for it (ValidationError {field: message}); else rename it to
    its safe name and return it."""
    allowed, max_bytes = limits(kind)
    try:
        accepted = uploads.inspect(
            upload.file if hasattr(upload, "file") else upload,
            upload.name,
            upload.size,
            allowed=allowed,
            max_bytes=max_bytes,
        )
    except uploads.UploadRefused as exc:
        raise ValidationError({field: str(exc)}) from exc
    upload.name = accepted.name
    return upload


def _reader_for(name: str) -> Reader | None:
    for prefix in sorted(_READERS, key=len, reverse=True):
        if name.startswith(prefix):
            return _READERS[prefix]
    return None


# What a served file may do in the browser: nothing but show itself.
_FILE_POLICY = (
    "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"
)
_ATTACHMENT_POLICY = "default-src 'none'; sandbox"


@login_required
def serve(request, name: str):
    """One stored file, to a user who may see the record it belongs to."""
    name = posixpath.normpath(name)
    if name.startswith(("/", "..")) or "\x00" in name:
        raise Http404
    reader = _reader_for(name)
    if reader is None or not reader(request.user, name):
        raise Http404
    try:
        handle = default_storage.open(name, "rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    key = uploads.sniff(handle)
    file_type = uploads.TYPES.get(key) if key else None
    inline = key in uploads.INLINE
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=posixpath.basename(name),
        content_type=file_type.content_type if file_type else "application/octet-stream",
    )
    response["Content-Security-Policy"] = _FILE_POLICY if inline else _ATTACHMENT_POLICY
    response["Cache-Control"] = "private, no-store"
    return response
