"""Reading a work-plan document into numbered lines (pure; no Django).

Plain text comes as `str` or `bytes`. Bytes are decoded by these rules, in order:

1. a UTF-8 BOM → UTF-8; a UTF-16 BOM (either byte order) → UTF-16;
2. valid UTF-8 → UTF-8;
3. if the bytes before the first invalid UTF-8 sequence already hold at least
   `UTF8_EVIDENCE` non-ASCII characters, the file *is* UTF-8 with a damaged byte,
   and that byte is reported (GB18030 would "decode" it into mojibake: almost any
   byte pair is valid GB18030, so trying it would hide the damage);
4. otherwise GB18030 (the superset of GBK/GB2312 that government offices use);
5. failing that, an error naming the byte offset and line.

A .docx (recognised by its name or by the zip signature) becomes, in document
order, one line per paragraph (a soft line break inside a paragraph starts a new
line) and one `DocTable` per table. Line numbers count paragraph lines and table
rows alike: a table whose first row is line 12 with 5 rows takes lines 12–16, and
the paragraph after it is line 17. Without tables, line N is the N-th paragraph
line, as before. A table cell merged across columns or rows (python-docx returns
the same cell for each grid position it covers) has the same `key` in each.

Documents larger than `max_bytes` (default 20 MB, the setting YINGJI_PLAN_MAX_BYTES)
are refused before they are read: a file by its size on disk, a .docx also by its
unpacked size and by its unpacked/packed ratio (`max_ratio`, core/safezip.py),
checked from the zip's directory before anything in it is unpacked.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from yingji.core import safezip

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_RATIO = safezip.Limits.max_ratio
UTF8_EVIDENCE = 4

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy binary Word (.doc)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# What a damaged zip raises: bad headers or CRCs, corrupt deflate data, a cut-off
# stream, or an unsupported zip version or compression method.
_BROKEN_ZIP = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError)


@dataclass(frozen=True)
class Issue:
    """One problem in a document. `line` is 1-based; 0 means the document as a whole."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"第{self.line}行:{self.message}" if self.line else f"全文:{self.message}"


class PlanDocumentError(ValueError):
    """The document cannot be read as a work plan; `issues` lists every problem found."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


def _fail(message: str, line: int = 0) -> PlanDocumentError:
    return PlanDocumentError([Issue(line, message)])


def _too_large(size: int, max_bytes: int, what: str = "文件") -> PlanDocumentError:
    return _fail(
        f"{what}过大:{size:,} 字节({size / 1048576:.1f} MB),上限为 {max_bytes:,} 字节"
        f"({max_bytes / 1048576:.1f} MB)"
    )


def split_lines(text: str) -> list[str]:
    """Split text on any newline convention; a leading BOM is dropped."""
    return _LINE_BREAK.split(text.removeprefix("\ufeff"))


def decode_text(data: bytes) -> str:
    """Decode plain-text bytes by the rules in the module docstring."""
    if data.startswith(b"\xef\xbb\xbf"):
        return _strict(data, 3, "utf-8", "UTF-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _strict(data, 0, "utf-16", "UTF-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as utf8_error:
        prefix = data[: utf8_error.start].decode("utf-8")
        if sum(1 for ch in prefix if ord(ch) > 127) >= UTF8_EVIDENCE:
            raise _undecodable(data, utf8_error.start, "UTF-8") from None
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as gb_error:
        raise _undecodable(data, gb_error.start, "UTF-8 或 GB18030") from None


def _strict(data: bytes, skip: int, codec: str, label: str) -> str:
    try:
        return data[skip:].decode(codec)
    except UnicodeDecodeError as error:
        offset = skip + error.start
        # Count newlines in the decoded prefix: in UTF-16 a 0x0A byte is not a newline.
        line = data[skip:offset].decode(codec, errors="replace").count("\n") + 1
        raise _undecodable(data, offset, label, line) from None


def _undecodable(
    data: bytes, offset: int, label: str, line: int | None = None
) -> PlanDocumentError:
    if line is None:  # UTF-8 and GB18030 never use 0x0A inside a multi-byte character
        line = data.count(b"\n", 0, offset) + 1
    return _fail(f"无法按 {label} 解码:字节偏移 {offset} 处的 0x{data[offset]:02X} 无效", line)


@dataclass(frozen=True)
class TableCell:
    """One grid position of a table row; a merged cell has one `key` in each."""

    text: str
    key: int


@dataclass(frozen=True)
class DocTable:
    """A .docx table: `index` is 1-based among the document's tables, `line` the line
    number of its first row (row i is line `line + i - 1`)."""

    index: int
    line: int
    rows: tuple[tuple[TableCell, ...], ...]


Block = str | DocTable


def docx_lines(
    data: bytes, max_bytes: int = DEFAULT_MAX_BYTES, max_ratio: int = DEFAULT_MAX_RATIO
) -> list[str]:
    """The paragraphs of a .docx, in order, as lines (tables left out)."""
    blocks = docx_blocks(data, max_bytes, max_ratio)
    return [block for _, block in blocks if isinstance(block, str)]


def docx_blocks(
    data: bytes, max_bytes: int = DEFAULT_MAX_BYTES, max_ratio: int = DEFAULT_MAX_RATIO
) -> list[tuple[int, Block]]:
    """The paragraph lines and tables of a .docx in document order, each with its
    line number (see the module docstring)."""
    # A small zip can unpack to gigabytes: judged from its directory first.
    limits = safezip.Limits(max_bytes=max_bytes, max_unpacked=max_bytes, max_ratio=max_ratio)
    try:
        safezip.check(data, ".docx", limits)
    except safezip.NotAZipError:
        raise _fail("不是有效的 .docx 文件(无法作为 zip 打开)") from None
    except safezip.SafeZipError as exc:  # the issue names the document already
        raise _fail(".docx " + str(exc).split(":", 1)[1]) from None
    # Imported here: python-docx is only needed for .docx input.
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from lxml.etree import XMLSyntaxError

    try:
        document = docx.Document(io.BytesIO(data))
    except _BROKEN_ZIP:
        raise _fail("不是有效的 .docx 文件(压缩内容已损坏)") from None
    except (PackageNotFoundError, KeyError, ValueError, XMLSyntaxError):
        raise _fail("不是有效的 .docx 文件(zip 中没有可读的 Word 文档内容)") from None
    from docx.table import Table

    blocks: list[tuple[int, Block]] = []
    line = 0
    tables = 0
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            tables += 1
            try:
                rows = _table_rows(item)
            except ValueError:  # python-docx: a vertical merge with no cell above it
                raise _fail(
                    f"表格{tables}(第 {line + 1} 行起)的合并单元格结构无效:纵向合并的"
                    "单元格上方没有可合并的单元格,请在 Word 中取消该合并后重新保存"
                ) from None
            blocks.append((line + 1, DocTable(tables, line + 1, rows)))
            line += max(1, len(rows))
        else:
            for text in split_lines(item.text):
                line += 1
                blocks.append((line, text))
    return blocks


def _table_rows(table) -> tuple[tuple[TableCell, ...], ...]:
    # Merged cells: python-docx yields the same <w:tc> element for every grid
    # position a cell spans (a vertical span resolves to its top cell); number the
    # elements while they are all alive, so equal keys mean the same cell.
    keys: dict[int, int] = {}
    alive = []
    rows = []
    for row in table.rows:
        cells = [TableCell("", -1)] * row.grid_cols_before
        for cell in row.cells:
            alive.append(cell._tc)  # noqa: SLF001 - the element is the cell's identity
            key = keys.setdefault(id(cell._tc), len(keys))  # noqa: SLF001
            cells.append(TableCell(cell.text.strip(), key))
        rows.append(tuple(cells))
    return tuple(rows)


def read_blocks(
    source: str | bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    is_docx: bool | None = None,
    max_ratio: int = DEFAULT_MAX_RATIO,
) -> list[tuple[int, Block]]:
    """Numbered lines and tables of a document given as text or bytes (tables come
    only from a .docx). `is_docx=None` recognises a .docx by the zip signature."""
    if (
        isinstance(source, bytes)
        and len(source) <= max_bytes
        and (is_docx or (is_docx is None and source.startswith(_ZIP_MAGIC)))
    ):
        return docx_blocks(source, max_bytes, max_ratio)
    return list(enumerate(read_lines(source, max_bytes=max_bytes, is_docx=False), 1))


def read_file_blocks(
    path: str | os.PathLike[str],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_ratio: int = DEFAULT_MAX_RATIO,
) -> list[tuple[int, Block]]:
    """Numbered lines and tables of a document on disk; the size is checked first."""
    path = Path(path)
    data = _read_file(path, max_bytes)
    return read_blocks(
        data,
        max_bytes=max_bytes,
        is_docx=True if path.suffix.lower() == ".docx" else None,
        max_ratio=max_ratio,
    )


def read_lines(
    source: str | bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, is_docx: bool | None = None
) -> list[str]:
    """Lines of a document given as text or bytes (a .docx: its paragraphs).
    `is_docx=None` recognises a .docx by the zip signature."""
    if isinstance(source, str):
        size = len(source.encode("utf-8", "surrogatepass"))  # text read with surrogateescape
        if size > max_bytes:
            raise _too_large(size, max_bytes)
        return split_lines(source)
    if len(source) > max_bytes:
        raise _too_large(len(source), max_bytes)
    if is_docx or (is_docx is None and source.startswith(_ZIP_MAGIC)):
        return docx_lines(source, max_bytes)
    if source.startswith(_OLE_MAGIC):
        raise _fail("这是旧版 Word(.doc)文件,请另存为 .docx 或纯文本后再导入")
    return split_lines(decode_text(source))


def read_file_lines(
    path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES
) -> list[str]:
    """Lines of a document on disk; the size is checked before anything is read."""
    path = Path(path)
    data = _read_file(path, max_bytes)
    return read_lines(
        data, max_bytes=max_bytes, is_docx=True if path.suffix.lower() == ".docx" else None
    )


def _read_file(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise _too_large(size, max_bytes)
        return path.read_bytes()
    except OSError as error:
        raise _fail(f"无法读取文件 {path.name}:{error.strerror or error}") from None
