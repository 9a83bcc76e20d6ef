"""One reader for the tables people upload (CSV in UTF-8 or GB18030, or the first
sheet of an .xlsx workbook): judged by the upload limits before it is parsed
(size; a workbook's zip-bomb ratio), rows as lists of cell values, the header
first. Errors name the file.

New importers read through here; the subscriber and sensor imports predate it
and keep their own readers for now (same limits, same encodings).
"""

from __future__ import annotations

import csv
import io


class TableError(ValueError):
    """The file cannot be read as a table (named in the message)."""


def read_table(name: str, data: bytes) -> list[list[object]]:
    from yingji.core import inputlimits

    if problem := inputlimits.size_problem(len(data), name):
        raise TableError(problem)
    if name.lower().endswith((".xlsx", ".xlsm")):
        import openpyxl

        if problem := inputlimits.archive_problem(data, name):
            raise TableError(problem)
        try:
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a file that is not xlsx
            raise TableError(
                f"{name}:不是有效的 Excel (.xlsx) 文件({type(exc).__name__})"
            ) from None
        try:
            return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
        finally:
            book.close()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise TableError(f"{name}:无法识别文件编码(应为 UTF-8 或 GB18030)")
    try:
        return [list(row) for row in csv.reader(io.StringIO(text))]
    except csv.Error as exc:
        raise TableError(f"{name}:CSV 格式有误({exc})") from None
