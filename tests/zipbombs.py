"""Generated zip bombs for the tests of the upload limits: real archives that
unpack to what they say when read (built once per test session, streamed, never
held unpacked in memory)."""

from __future__ import annotations

import atexit
import functools
import io
import shutil
import tempfile
import zipfile
from pathlib import Path

MB = 1024 * 1024
_DIR = Path(tempfile.mkdtemp(prefix="yingji-zipbombs-"))
atexit.register(shutil.rmtree, _DIR, ignore_errors=True)
SST_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)


def _plain_xlsx(sheet_title: str, header: list[str]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = sheet_title
    book.active.append(header)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@functools.cache
def xlsx_bomb(
    unpacked: int = 400 * MB, sheet_title: str = "隐患台账", header: tuple[str, ...] = ("隐患编号",)
) -> Path:
    """A valid .xlsx (the sheet `sheet_title` with `header`) whose shared strings
    unpack to `unpacked` bytes: 400 MB from about 700 KB, as in the issue."""
    plain = zipfile.ZipFile(io.BytesIO(_plain_xlsx(sheet_title, list(header))))
    path = _DIR / f"bomb-{unpacked}-{abs(hash((sheet_title, header)))}.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        for info in plain.infolist():
            if info.filename != "xl/sharedStrings.xml":
                z.writestr(info.filename, plain.read(info.filename))
        with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as f:
            f.write(SST_HEAD)
            si = "<si><t>灭火器过期".encode() + b"A" * 3000 + b"</t></si>"
            chunk = si * (MB // len(si))
            written = len(SST_HEAD)
            while written < unpacked:
                f.write(chunk)
                written += len(chunk)
            f.write(b"</sst>")
    return path


@functools.cache
def docx_bomb(unpacked: int = 400 * MB) -> Path:
    """A .docx whose document.xml unpacks to `unpacked` bytes of one paragraph's runs."""
    import docx

    document = docx.Document()
    document.add_paragraph("2026年工作要点")
    plain_buf = io.BytesIO()
    document.save(plain_buf)
    plain = zipfile.ZipFile(plain_buf)
    path = _DIR / f"bomb-{unpacked}.docx"
    body = plain.read("word/document.xml")
    head, _, tail = body.partition(b"<w:body>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        for info in plain.infolist():
            if info.filename != "word/document.xml":
                z.writestr(info.filename, plain.read(info.filename))
        with z.open("word/document.xml", "w", force_zip64=True) as f:
            f.write(head + b"<w:body>")
            run = b"<w:p><w:r><w:t>" + b"A" * 3000 + b"</w:t></w:r></w:p>"
            chunk = run * (MB // len(run))
            written = 0
            while written < unpacked:
                f.write(chunk)
                written += len(chunk)
            f.write(tail)
    return path
