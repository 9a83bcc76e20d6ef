"""A fast, safe reader of the values in an .xlsx sheet (pure; no Django).

openpyxl builds an object per cell and, for sheets without a <dimension>
element (openpyxl's own write-only output), parses the sheet twice; a 100,000-row
ledger then takes minutes. Ledgers only need values: this reads the shared
strings and streams one sheet with lxml's iterparse (no entities, no network).
Numbers come back as float, booleans as bool, text as str; dates stay Excel
serial numbers (the ledger's date columns convert them, see cells.date).

Untrusted input: the archive passes core/safezip.py's checks (its size, what it
unpacks to in all and the unpacked/packed ratio) before anything in it is
unpacked, so a small workbook whose shared strings unpack to hundreds of
megabytes is refused unread (XlsxLimitError, naming the file and the limit); the
parser keeps libxml2's own limits (no huge_tree: text nodes up to 10 MB, depth
256) and streams the shared strings as it streams the sheet.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
import zlib
from collections.abc import Iterator

from lxml import etree

from yingji.core import safezip

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


class XlsxError(ValueError):
    """Not a readable .xlsx workbook."""


class XlsxLimitError(XlsxError):
    """A workbook refused before it was unpacked (a limit exceeded); the message
    names the file and the limit."""


def _parse(data: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.fromstring(data, parser)


def _column(ref: str) -> int:
    n = 0
    for ch in ref:
        if ch.isalpha():
            n = n * 26 + (ord(ch.upper()) - 64)
        else:
            break
    return n - 1


def sheets(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet title → path inside the archive, in workbook order."""
    book = _parse(archive.read("xl/workbook.xml"))
    rels = _parse(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels.iter(f"{PKG_REL_NS}Relationship")}
    out = {}
    for sheet in book.iter(f"{NS}sheet"):
        target = targets.get(sheet.get(f"{REL_NS}id"), "")
        path = (
            target.lstrip("/")
            if target.startswith("/")
            else posixpath.normpath(posixpath.join("xl", target))
        )
        out[sheet.get("name")] = path
    return out


def _shared_strings(archive: zipfile.ZipFile) -> list[str]:
    try:
        source = archive.open("xl/sharedStrings.xml")
    except KeyError:
        return []
    strings = []
    with source:
        for _, si in etree.iterparse(
            source, events=("end",), tag=f"{NS}si", resolve_entities=False, no_network=True
        ):
            strings.append("".join(t.text or "" for t in si.iter(f"{NS}t")))
            si.clear()
            while si.getprevious() is not None:
                del si.getparent()[0]
    return strings


def read_rows(
    data: bytes,
    prefer: str | None = None,
    *,
    name: str = "工作簿",
    limits: safezip.Limits = safezip.Limits(),  # noqa: B008 (frozen)
) -> Iterator[tuple[int, list]]:
    """(Excel row number, values) for each row of the sheet titled `prefer`
    (or the first sheet). Raises XlsxLimitError when the archive exceeds `limits`
    (checked before anything is unpacked; `name` is the file's name for the
    message) and XlsxError for anything that is not an .xlsx."""
    try:
        safezip.check(data, name, limits)
    except safezip.NotAZipError as exc:
        raise XlsxError(str(exc)) from None
    except safezip.SafeZipError as exc:
        raise XlsxLimitError(str(exc)) from None
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        titles = sheets(archive)
        strings = _shared_strings(archive)
    except _BROKEN as exc:
        raise XlsxError(str(exc)) from None
    if not titles:
        raise XlsxError("工作簿中没有工作表")
    path = titles.get(prefer) or next(iter(titles.values()))
    try:
        yield from _rows(archive, path, strings)
    except _BROKEN as exc:
        raise XlsxError(str(exc)) from None


# What a damaged workbook raises while it is read: bad zip headers or CRCs, corrupt
# deflate data, a cut-off stream, a missing part, malformed or over-limit XML.
_BROKEN = (zipfile.BadZipFile, zlib.error, EOFError, KeyError, etree.XMLSyntaxError)


def _rows(archive: zipfile.ZipFile, path: str, strings: list[str]) -> Iterator[tuple[int, list]]:
    source = archive.open(path)
    context = etree.iterparse(
        source,
        events=("end",),
        tag=f"{NS}row",
        resolve_entities=False,
        no_network=True,
    )
    expected = 0
    for _, row in context:
        expected += 1
        number = int(row.get("r") or expected)
        expected = number
        values: list = []
        for position, cell in enumerate(row.iter(f"{NS}c")):
            ref = cell.get("r")
            index = _column(ref) if ref else position
            kind = cell.get("t", "n")
            if kind == "inlineStr":
                value = "".join(t.text or "" for t in cell.iter(f"{NS}t"))
            else:
                v = cell.find(f"{NS}v")
                raw = v.text if v is not None else None
                if raw is None:
                    value = None
                elif kind == "s":
                    value = strings[int(raw)]
                elif kind == "b":
                    value = raw == "1"
                elif kind in ("str", "e"):
                    value = raw
                else:
                    try:
                        value = float(raw)
                    except ValueError:
                        value = raw
            if index >= len(values):
                values.extend([None] * (index + 1 - len(values)))
            values[index] = value
        row.clear()
        while row.getprevious() is not None:
            del row.getparent()[0]
        yield number, values
