"""Reading a task-breakdown table (任务分解表) from a .docx (pure; no Django).

A breakdown table has a header row naming its columns, then one row per task (or
several rows per task, when the task cell is merged down over one row per measure:
their measures are joined, their owners united, and each measure with its own
owners becomes a clause), optionally with heading rows and with the header
repeated on each page (skipped). A heading row is a row whose only text is
"一、…" / "第一部分…" (a section) or "(一)…" (a subsection), a cell merged across
the whole row (a section, numbered after the previous one when it has no numeral),
or a numeral alone in the 序号 column with no owners ("一 | 强化风险防控 | | ").

Columns are found by their header text, never by position: each header cell is
normalised (spaces, asterisks and colons dropped; a trailing remark in brackets
such as "牵头单位(处室)" dropped when the whole text does not match) and looked up in
`COLUMN_SYNONYMS`, a table of data that callers may replace or extend. Kinds:

    number    序号                 written task number (kept only when it fits)
    task      工作任务/重点任务…   the task; required (or `measures` standing in)
    measures  具体措施/工作内容…   appended to the task text
    lead      牵头单位/牵头处室…   every name leads, unless the cell says otherwise
                                   ("A牵头,B配合")
    owners    责任单位/责任处室…   the first name leads, the rest co-organise
    co        配合单位/协办…       co-organisers
    deadline  完成时限/时间节点…   read by `timehints.read_deadline`

The header is the first row, among the first five, with at least two recognised
columns; rows right below it that are mostly recognised names (a two-row header
such as "责任单位" over "牵头单位 | 配合单位") refine it, the lower row winning. A
table needs a task (or measures) column and a lead (or owners) column; otherwise
it is refused, naming the table and the missing column. Rows above the header (a
caption merged across the table) are ignored.

This module only finds the structure; `parser` reads owners and time hints.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from yingji.workplan.docsource import DocTable, TableCell
from yingji.workplan.timehints import cn_number
from yingji.workplan.timehints import cn_numeral as _cn

COLUMN_SYNONYMS: dict[str, tuple[str, ...]] = {
    "number": ("序号", "编号", "序", "任务编号"),
    "task": (
        "工作任务",
        "重点任务",
        "主要任务",
        "任务",
        "任务名称",
        "重点工作",
        "工作事项",
        "工作要点",
        "任务事项",
        "工作目标",
    ),
    "measures": (
        "具体措施",
        "工作措施",
        "主要措施",
        "工作内容",
        "具体内容",
        "具体工作",
        "任务内容",
        "工作举措",
        "具体任务",
        "措施",
    ),
    "lead": ("牵头单位", "牵头处室", "牵头部门", "牵头科室", "牵头"),
    "owners": (
        "责任单位",
        "责任处室",
        "责任部门",
        "主责单位",
        "主责处室",
        "承办单位",
        "责任科室",
        "责任主体",
    ),
    "co": (
        "配合单位",
        "配合处室",
        "配合部门",
        "协办单位",
        "协办处室",
        "协办",
        "配合",
        "协同单位",
        "参与单位",
        "协助单位",
    ),
    "deadline": (
        "完成时限",
        "时间节点",
        "完成时间",
        "时限",
        "时间要求",
        "进度安排",
        "完成期限",
        "时间安排",
        "办结时限",
    ),
}
"""Header names by column kind; matched after normalisation, exactly."""

HEADER_SEARCH_ROWS = 5

_DROP = re.compile(r"[\s\u3000*\uff0a:\uff1a]")
_REMARK = re.compile(r"[（(][^（()）]*[）)]$")
_SECTION_RE = re.compile(r"(?:第([一二三四五六七八九十]+)部分|([一二三四五六七八九十]+)、)\s*(.*)")
_SUBSECTION_RE = re.compile(r"[（(]\s*([一二三四五六七八九十]+)\s*[）)]\s*(.*)")
_NUMERAL_CELL = re.compile(r"([一二三四五六七八九十]+)\s*[、.．]?")
_SUB_NUMERAL_CELL = re.compile(r"[（(]\s*([一二三四五六七八九十]+)\s*[）)]")

KIND_LABELS = {"task": "工作任务", "lead": "牵头单位"}


def normalise_header(text: str) -> str:
    """A header cell's text as looked up in the synonym table."""
    return _DROP.sub("", text)


def _header_lookup(synonyms: Mapping[str, Sequence[str]]) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for kind, names in synonyms.items():
        for name in names:
            lookup.setdefault(normalise_header(name), kind)
    return lookup


def classify_header(text: str, lookup: Mapping[str, str]) -> str | None:
    """The column kind a header text names, or None."""
    name = normalise_header(text)
    if name in lookup:
        return lookup[name]
    bare = _REMARK.sub("", name)
    return lookup.get(bare) if bare != name else None


@dataclass
class TableSection:
    """A section row: "一、…" (number given) or a spanning row of plain text."""

    line: int
    where: str
    number: int | None
    title: str


@dataclass
class TableSubsection:
    """A subsection row "(一)…"."""

    line: int
    where: str
    label: str
    title: str


@dataclass
class TableRow:
    """One row's contribution to a task: its measure and owner cells."""

    line: int
    where: str
    measure: str
    lead: str
    co: str
    deadline: str


@dataclass
class TableTask:
    """A task: one row, or consecutive rows sharing a merged task cell."""

    line: int
    where: str
    number: str
    task: str
    lead_kind: str  # "lead" or "owners"
    rows: list[TableRow] = field(default_factory=list)

    @property
    def end_line(self) -> int:
        return self.rows[-1].line


@dataclass
class TableProblem:
    line: int
    message: str


TableItem = TableSection | TableSubsection | TableTask


def where(table: DocTable, first: int, last: int | None = None) -> str:
    """ "表格2第5行" (1-based rows) or "表格2第5–7行"."""
    rows = f"{first}" if last is None or last == first else f"{first}–{last}"
    return f"表格{table.index}第{rows}行"


def _distinct(row: Sequence[TableCell]) -> list[tuple[int, TableCell]]:
    """(column, cell) for the first grid position of each cell in the row."""
    seen: set[int] = set()
    found = []
    for column, cell in enumerate(row):
        if cell.key in seen:
            continue
        seen.add(cell.key)
        found.append((column, cell))
    return found


def _row_kinds(row: Sequence[TableCell], lookup: Mapping[str, str]) -> dict[int, str]:
    return {
        column: kind
        for column, cell in _distinct(row)
        if cell.text and (kind := classify_header(cell.text, lookup))
    }


def read_table(
    table: DocTable,
    synonyms: Mapping[str, Sequence[str]] = COLUMN_SYNONYMS,
) -> tuple[list[TableItem], list[TableProblem]]:
    """The sections, subsections and tasks of a breakdown table, in row order, or
    the problems that make it unreadable (rules in the module docstring)."""
    rows = table.rows
    if not any(cell.text for row in rows for cell in row):
        return [], [TableProblem(table.line, f"表格{table.index}是空表格,没有任何内容")]
    lookup = _header_lookup(synonyms)
    header_at = next(
        (i for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]) if len(_row_kinds(row, lookup)) >= 2),
        None,
    )
    if header_at is None:
        return [], [_unknown_header(table, lookup, rows)]
    kinds_by_column = dict(_row_kinds(rows[header_at], lookup))
    body = header_at + 1
    while body < len(rows):
        kinds = _row_kinds(rows[body], lookup)
        texts = [cell for _, cell in _distinct(rows[body]) if cell.text]
        if not kinds or len(kinds) * 2 < len(texts):
            break
        kinds_by_column.update(kinds)
        body += 1
    columns: dict[str, int] = {}
    for column, kind in sorted(kinds_by_column.items()):
        columns.setdefault(kind, column)
    if "task" not in columns and "measures" in columns:
        columns["task"] = columns.pop("measures")
    lead_kind = "lead" if "lead" in columns else "owners"
    missing = [
        kind
        for kind, present in (
            ("task", "task" in columns),
            ("lead", "lead" in columns or "owners" in columns),
        )
        if not present
    ]
    if missing:
        return [], [_unknown_header(table, lookup, rows, header_at, missing)]
    if "lead" in columns and "owners" in columns:
        # 责任单位 beside 牵头单位: the owners column is then a second lead list's
        # heading at most; read leads from 牵头单位.
        columns.pop("owners")
    lead_column = columns["lead"] if lead_kind == "lead" else columns["owners"]

    def text(row: Sequence[TableCell], kind: str) -> str:
        column = columns.get(kind)
        return row[column].text if column is not None and column < len(row) else ""

    def key(row: Sequence[TableCell], column: int) -> int:
        return row[column].key if column < len(row) else -1

    items: list[TableItem] = []
    problems: list[TableProblem] = []
    task: TableTask | None = None
    task_key = measure_key = None
    data_rows = 0
    for index in range(body, len(rows)):
        row = rows[index]
        line = table.line + index
        here = where(table, index + 1)
        cells = [cell for _, cell in _distinct(row) if cell.text]
        if not cells:
            continue
        if len(_row_kinds(row, lookup)) >= 2 and classify_header(text(row, "task"), lookup):
            task = None  # the header repeated on a new page
            continue
        if heading := _heading_row(row, cells, text, lead_column):
            kind, number, title = heading
            items.append(
                TableSection(line, here, number, title)
                if kind == "section"
                else TableSubsection(line, here, f"({_cn(number)})", title)
            )
            task = None
            continue
        data_rows += 1
        current_key = key(row, columns["task"])
        measure = text(row, "measures")
        cell_row = TableRow(
            line, here, "", text(row, lead_kind), text(row, "co"), text(row, "deadline")
        )
        if task is not None and current_key == task_key and text(row, "task"):
            if "measures" in columns and key(row, columns["measures"]) != measure_key:
                cell_row.measure = measure
            measure_key = key(row, columns["measures"]) if "measures" in columns else None
            task.rows.append(cell_row)
            task.where = where(table, task.line - table.line + 1, index + 1)
            continue
        cell_row.measure = measure
        task = TableTask(line, here, text(row, "number"), text(row, "task"), lead_kind, [cell_row])
        task_key = current_key
        measure_key = key(row, columns["measures"]) if "measures" in columns else None
        items.append(task)
    if not data_rows and not problems:
        problems.append(
            TableProblem(table.line + body - 1, f"表格{table.index}只有表头,没有任务行")
        )
    return items, problems


def _heading_row(row, cells, text, lead_column) -> tuple[str, int | None, str] | None:
    """("section"|"subsection", number, title) when the row is a heading row."""
    if len({cell.text for cell in cells}) == 1:
        content = cells[0].text.replace("\n", "")
        if match := _SUBSECTION_RE.fullmatch(content):
            if (number := cn_number(match.group(1))) is not None:
                return "subsection", number, match.group(2).strip()
        if match := _SECTION_RE.fullmatch(content):
            if (number := cn_number(match.group(1) or match.group(2))) is not None:
                return "section", number, match.group(3).strip()
        # Plain text is a section title only in a cell merged across the whole row;
        # alone in one cell of a row it is a task with its other cells left empty.
        if len({cell.key for cell in row}) == 1:
            return "section", None, content.strip()
    # The numeral alone in the 序号 column and no owners: "一 | 强化风险防控 | | ".
    lead = row[lead_column].text if lead_column < len(row) else ""
    first = text(row, "number")
    if lead or not first:
        return None
    title = text(row, "task") or text(row, "measures")
    if match := _SUB_NUMERAL_CELL.fullmatch(first):
        if (number := cn_number(match.group(1))) is not None:
            return "subsection", number, title
    if match := _NUMERAL_CELL.fullmatch(first):
        if (number := cn_number(match.group(1))) is not None:
            return "section", number, title
    return None


def _unknown_header(
    table: DocTable,
    lookup: Mapping[str, str],
    rows,
    at: int | None = None,
    missing: list[str] | None = None,
) -> TableProblem:
    if at is None:  # the first row with any recognised name, else the first row with text
        candidates = [
            i for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]) if any(cell.text for cell in row)
        ]
        # No text in the rows searched (a table whose header lies further down):
        # name the first row.
        at = max(candidates, key=lambda i: (len(_row_kinds(rows[i], lookup)), -i), default=0)
        kinds = set(_row_kinds(rows[at], lookup).values())
        missing = [
            kind
            for kind, present in (
                ("task", kinds & {"task", "measures"}),
                ("lead", kinds & {"lead", "owners"}),
            )
            if not present
        ]
    names = " | ".join(cell.text.replace("\n", "") for _, cell in _distinct(rows[at]))
    wanted = "和".join(f"“{KIND_LABELS[kind]}”列" for kind in missing or ["task", "lead"])
    examples = {"task": "工作任务、重点任务、具体措施", "lead": "牵头单位、牵头处室、责任单位"}
    hint = ";".join(f"{KIND_LABELS[kind]}列可写作:{examples[kind]}" for kind in missing or [])
    return TableProblem(
        table.line + at,
        f"表格{table.index}无法识别表头:{where(table, at + 1)}“{names}”中"
        f"没有{wanted}({hint}),该表格未导入",
    )
