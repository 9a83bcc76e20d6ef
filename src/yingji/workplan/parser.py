"""The work-plan document parser (pure; no Django).

A work plan (工作要点) is: an optional title line, a preamble (总体要求), sections
"一、…", and numbered tasks, each ending with an owner parenthesis naming the
responsible departments: the first named leads (牵头), the rest co-organise (配合).
Tasks are numbered "1." (ASCII or full-width point), "1、" or "(一)" (ASCII or
full-width brackets); a task runs until the next task or section line. Task numbers
run 1..N through the whole document (the database keys tasks by number); numbering
that restarts at 1 in a later section is renumbered in document order, with one
warning.

Other layouts (docs/workplan.md):

owner line a line of its own starting "牵头单位:" / "责任单位:" / "配合单位:" … (not
           inside an open parenthesis) gives the owners of the task above it; several
           such lines are read together, as one parenthesis would be.
three      "一、" / "(一)" / "1.": a "(一)" item with "1." tasks under it is a
levels     subsection heading, kept as written ("（一）加强源头管控") in each of its
           tasks' `subsection`; a "(一)" item without "1." under it is a task
           itself. Its owner line, if any, holds for its tasks that name none.
tables     .docx breakdown tables (任务分解表): see `yingji.workplan.tables`.
           Rows become tasks of the current section (or of a section row's), text
           task + measures, owners from the 牵头/配合 columns, due date from the
           完成时限 column (`timehints.read_deadline`) else from the wording. A
           table before any section heading opens a section titled "工作任务".
numbering  with three levels or tables, written numbers may restart in each section
           or subsection (inside one they must run on by one) and tasks are numbered
           1..N in document order, with one warning when that changes a number.
source     every task says where it was read (`source`: "第12行" or "表格1第3行");
           a table's problems name the table, its row and column in the message,
           and their line is the row's line (docsource: rows count as lines).

Rules, each tested on the bundled 2022 Guangzhou plan (`GUANGZHOU_2022_PLAN`):

title      the first line, if it is short (≤ 40 characters) and has no sentence
           punctuation; otherwise "{year}年工作要点", with a warning.
year       the `year=` argument; else the first "20XX年" of the title, then of the
           preamble ("2022年是…"); none → error.
goals      the preamble is cut into clauses at , , ; ; 。 ! ? outside quotes; a clause
           is a goal when it has a commitment verb (实现 确保 力争 达到) followed by a
           quoted term “…”, and is not a purpose clause (starting 为: what the work
           serves, not what it commits to). The goal is the text after the verb:
           "努力实现生产安全事故起数和死亡人数“双下降”" → "生产安全事故起数和死亡人数“双下降”".
owners     the LAST parenthesis of the task, full-width or ASCII, with nothing but
           punctuation after it. Inside, segments split at , , ; ; and names at 、
           or spaces. The remark "排名第一的为牵头处室,下同" is dropped. A segment may
           carry a label (牵头单位: → leads; 协同/配合/协办/参与单位: → co-organise;
           责任单位: → a plain list) or a role suffix (…牵头 → leads; …配合,
           …按职责分工负责 … → co-organise). With any explicit lead, every other
           name co-organises; without one, the first name leads.
collective "各区政府", "各镇(园区)", "各相关处室单位", "市安委会各成员单位", "有关单位"
           (`is_collective`; a known name never is): an owner that is no
           department, kept in `collective`, never leading, never resolved.
etc, and  "A、B等部门/等单位/等" ends the list; "A和B"/"A及B" is split when every
territory side is a known name; "X落实属地管理责任" names X (a territorial
           sentence, not text); labels may read 牵头责任单位/协同责任单位.
unowned    a plan of ≥ 3 text tasks with no owners anywhere: every task is kept
           whole with `owners_pending` (待明确责任单位), one warning.
department a piece looks like a department name when it is a known name (the
           `known` mapping), a generic owner (各区, 各镇街), or: 3–30 characters, no
           "-", digit, quote, bracket or book-title mark, not opening with 含 包括
           以下 简称 …, ending in a department word (处 室 局 委 办 厅 院 队 站 中心
           政府 党委 纪委 街道办事处 指挥部 宣传部 … 有关单位 …) after a stem that is
           not just a count ("十余处" is not a department). A parenthesis is an owner
           list only when every piece looks like a department: (市-区-街道) and
           (深井铸造) are content.
clauses    a parenthesis in the middle of a task that names departments owns the
           clause before it (back to the previous sentence end, owner parenthesis or
           the task start); the task's own owners are still its last parenthesis,
           and the text after the last such clause is a clause of those owners.
text       the task text runs from after its number to before its owner parenthesis.
unknown    with a `known` mapping, each name not in it (as key or canonical value)
           is warned about once, at its first task, with the three nearest known
           departments by character similarity (difflib ratio ≥ 0.5).
trailer    lines after the last task's owner parenthesis (a signature, a date) are
           ignored with a warning, when the owner parenthesis closes a line.
errors     every problem is collected, then one `PlanDocumentError` lists them all.

Due dates, recurrences and key dates: see `yingji.workplan.timehints`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yingji.workplan.docsource import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_RATIO,
    Block,
    DocTable,
    Issue,
    PlanDocumentError,
    read_blocks,
    read_file_blocks,
)
from yingji.workplan.tables import (
    COLUMN_SYNONYMS,
    TableSection,
    TableSubsection,
    TableTask,
    read_table,
)
from yingji.workplan.timehints import (
    FLOOD_SEASON_START,
    cn_number,
    read_deadline,
    read_time_hints,
)
from yingji.workplan.timehints import (
    cn_numeral as _cn,
)

__all__ = [
    "COLUMN_SYNONYMS",
    "DEFAULT_MAX_BYTES",
    "FLOOD_SEASON_START",
    "GUANGZHOU_2022_PLAN",
    "OWNERS_PENDING",
    "Issue",
    "Owners",
    "ParsedClause",
    "ParsedPlan",
    "ParsedSection",
    "ParsedTask",
    "PlanDocumentError",
    "Warning",
    "extract_goals",
    "is_collective",
    "looks_like_department",
    "parse_owners",
    "parse_plan",
    "parse_plan_file",
    "render_owners",
    "render_plan",
]

GUANGZHOU_2022_PLAN = Path(__file__).with_name("data") / "guangzhou_2022_plan.txt"


@dataclass(frozen=True)
class Warning(Issue):
    """A problem that does not stop an import, shown to the person importing.
    (The name is the one the workplan modules agree on; it shadows the builtin only
    inside this module.)"""


@dataclass
class ParsedClause:
    """A part of a task with its own owners (a parenthesis in mid-task)."""

    text: str
    lead: list[str]
    co: list[str]
    collective: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict: text, lead, co, collective."""
        return {
            "text": self.text,
            "lead": list(self.lead),
            "co": list(self.co),
            "collective": list(self.collective),
        }


@dataclass
class ParsedTask:
    """A numbered task; `line`/`end_line` are its first and last source lines (for a
    table: its first and last rows' line numbers), `source` says where it was read
    ("第12行" or "表格1第3行"), `subsection` is the "（一）…" heading it sits under
    in a three-level plan, as written, else None."""

    number: int
    text: str
    lead: list[str]
    co: list[str]
    line: int
    end_line: int
    clauses: list[ParsedClause] = field(default_factory=list)
    due: dt.date | None = None
    recurrence: str | None = None
    key_dates: list[str] = field(default_factory=list)
    subsection: str | None = None
    source: str = ""
    # Collective owners ("各区政府", "市安委会各成员单位"): owners, but no department.
    collective: list[str] = field(default_factory=list)
    # The plan names no owners at all: imported as 待明确责任单位, assigned later.
    owners_pending: bool = False

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict in the documented key order."""
        return {
            "number": self.number,
            "text": self.text,
            "lead": list(self.lead),
            "co": list(self.co),
            "clauses": [clause.to_json() for clause in self.clauses],
            "due": self.due.isoformat() if self.due else None,
            "recurrence": self.recurrence,
            "key_dates": list(self.key_dates),
            "subsection": self.subsection,
            "source": self.source,
            "collective": list(self.collective),
            "owners_pending": self.owners_pending,
        }


@dataclass
class ParsedSection:
    """A section "一、…" and its tasks; `line` is the heading's source line."""

    number: int
    title: str
    line: int
    tasks: list[ParsedTask] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict: number, title, tasks."""
        return {
            "number": self.number,
            "title": self.title,
            "tasks": [task.to_json() for task in self.tasks],
        }


@dataclass
class ParsedPlan:
    """A whole plan as read from its document."""

    title: str
    year: int
    preamble: str
    goals: list[str]
    sections: list[ParsedSection]
    warnings: list[Warning] = field(default_factory=list)

    @property
    def tasks(self) -> list[ParsedTask]:
        """Every task, in document order."""
        return [task for section in self.sections for task in section.tasks]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict: title, year, goals, sections (with tasks), warnings."""
        return {
            "title": self.title,
            "year": self.year,
            "goals": list(self.goals),
            "sections": [section.to_json() for section in self.sections],
            "warnings": [{"line": w.line, "message": w.message} for w in self.warnings],
        }


# ----------------------------------------------------------------------------- lines

_SECTION_RE = re.compile(r"([一二三四五六七八九十]+)、\s*(.*)")
_TASK_RE = re.compile(
    r"(?:(?P<arabic>[0-9０-９]{1,3})\s*[.．、](?![0-9０-９])"
    r"|[（(]\s*(?P<chinese>[一二三四五六七八九十]+)\s*[）)])\s*(?P<rest>.*)"
)
_SENTENCE_PUNCTUATION = set("。,\uff0c;\uff1b:\uff1a!\uff01?\uff1f")
_YEAR_RE = re.compile(r"(?<![0-9])((?:19|20)[0-9]{2})\s*年")


def _section_heading(line: str) -> tuple[int, str] | None:
    match = _SECTION_RE.match(line)
    if match is None or (number := cn_number(match.group(1))) is None:
        return None
    return number, match.group(2).strip()


def _task_start(line: str) -> tuple[int, str, bool] | None:
    """(number, rest of the line, whether the number is Arabic) of a task line."""
    match = _TASK_RE.match(line)
    if match is None:
        return None
    if match.group("arabic"):
        number: int | None = int(match.group("arabic"))  # int() reads full-width digits
    else:
        number = cn_number(match.group("chinese"))
    return None if number is None else (number, match.group("rest"), bool(match.group("arabic")))


def _looks_like_title(line: str) -> bool:
    return (
        len(line) <= 40
        and not _SENTENCE_PUNCTUATION.intersection(line)
        and _task_start(line) is None
    )


def _find_year(*texts: str | None) -> int | None:
    for text in texts:
        if text and (match := _YEAR_RE.search(text)):
            return int(match.group(1))
    return None


def _join(chunks: list[tuple[int, str]]) -> str:
    # Chinese needs no space where a line wraps; two Latin words do.
    parts: list[str] = []
    for _, chunk in chunks:
        previous = parts[-1][-1:] if parts else ""
        if (
            previous.isascii()
            and previous.isalnum()
            and chunk[:1].isascii()
            and chunk[:1].isalnum()
        ):
            parts.append(" ")
        parts.append(chunk)
    return "".join(parts)


# ----------------------------------------------------------------------------- goals

_GOAL_VERB = re.compile("实现|确保|力争|达到")
_QUOTES = {"“": "”", "《": "》", '"': '"'}


def _clauses(text: str) -> list[str]:
    """Cut at clause punctuation outside quotes and book titles."""
    pieces, current, closing = [], [], []
    for ch in text:
        if closing and ch == closing[-1]:
            closing.pop()
        elif ch in _QUOTES:
            closing.append(_QUOTES[ch])
        elif not closing and ch in ",\uff0c;\uff1b。!\uff01?\uff1f\n":
            pieces.append("".join(current))
            current = []
            continue
        current.append(ch)
    pieces.append("".join(current))
    return [piece.strip() for piece in pieces if piece.strip()]


def extract_goals(preamble: str) -> list[str]:
    """The quoted targets the preamble commits to (rule in the module docstring)."""
    goals = []
    for clause in _clauses(preamble):
        verb = _GOAL_VERB.search(clause)
        if clause.startswith("为") or verb is None or "“" not in clause[verb.end() :]:
            continue
        goals.append(clause[verb.end() :].strip())
    return goals


# ---------------------------------------------------------------------------- owners

_SEGMENT_SEPARATORS = ",\uff0c;\uff1b"
_NAME_SPLIT = re.compile(r"[、\s]+")
_REMARK_RE = re.compile(r"排名第一|排在第一|排名首位|^以?下同$|^其[他余]为")
# "牵头单位:", "牵头责任单位:", "协同责任单位:", "配合部门:", "责任单位:" …
_LABEL_RE = re.compile(
    r"^(牵头|协同|配合|协办|参与|责任|主责)(?:责任)?(?:单位|部门|处室|科室)?\s*[:\uff1a]\s*"
)
_LABEL_ROLES = {"牵头": "lead", "责任": None, "主责": None}  # other labels: "co"
# "各镇(园区)落实属地管理责任": the territorial duty of the names before it.
_TERRITORIAL_RE = re.compile(
    r"(?:负责)?(?:落实|履行|压实|承担)(?:好)?(?:属地)?(?:管理|监管)?(?:主体)?责任$"
)
# "A、B等部门" / "A等单位": the list ends, nothing more is named.
_ETC_RE = re.compile(r"等(?:相关|有关|其他)?(?:部门|单位|处室|科室)?$")
_CO_SUFFIXES = (
    "按职责分工负责",
    "按职责分工落实",
    "按职责负责",
    "分工负责",
    "配合落实",
    "协助落实",
    "配合",
    "协助",
    "协同",
    "协办",
    "参与",
)
_LEAD_SUFFIXES = ("牵头负责", "负责牵头", "共同牵头", "牵头落实", "牵头", "负责")

_DEPARTMENT_ENDING_RE = re.compile(
    "(?:"
    + "|".join(
        (
            "街道办事处",
            "办事处",
            "委员会",
            "指挥部",
            "管委会",
            "政府",
            "党委",
            "纪委",
            "中心",
            "宣传部",
            "组织部",
            "统战部",
            "武装部",
            "政治部",
            "研究所",
            "派出所",
            "工作组",
            "小组",
            "专班",
            "协会",
            "学会",
            "联合会",
            "集团",
            "公司",
            "学校",
            "大学",
            "处",
            "室",
            "局",
            "委",
            "办",
            "厅",
            "院",
            "队",
            "站",
        )
    )
    + ")$"
)
_GENERIC_UNIT_RE = re.compile(r"(?:各|有关|相关|成员|主管|职能)(?:单位|部门)$")
_GENERIC_OWNERS = frozenset({"各区", "各镇街", "各街镇"})
_NOT_IN_NAMES = re.compile(r"[-—–0-9０-９“”\"‘’'《》<>…。:\uff1a()\uff08\uff09\[\]【】]")
_NOT_NAME_PREFIXES = (
    "含",
    "包括",
    "包含",
    "不含",
    "以下",
    "简称",
    "下称",
    "即",
    "如",
    "见",
    "详见",
    "其中",
    "例如",
)
_COUNT_CHARS = set("0123456789一二三四五六七八九十两百千万余多几数")


@dataclass(frozen=True)
class Owners:
    """Owners named in one parenthesis, in written order and by role: departments
    (`lead`, `co`) and collective owners (`collective`: "各区政府", "各镇(园区)",
    "市安委会各成员单位"), which are owners but not departments of the register."""

    lead: list[str]
    co: list[str]
    names: list[str]
    collective: list[str] = field(default_factory=list)


def _split_top_level(content: str) -> list[str]:
    """Segments at , ; (ASCII or full-width) outside nested brackets ("各镇(园区)")."""
    segments, depth, current = [], 0, []
    for ch in content:
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE and depth:
            depth -= 1
        elif ch in _SEGMENT_SEPARATORS and depth == 0:
            segments.append("".join(current))
            current = []
            continue
        current.append(ch)
    segments.append("".join(current))
    return segments


def _split_joined(name: str, known: Collection[str]) -> list[str]:
    """ "综合协调处和法规处" → both, when every side is a known name or alias;
    otherwise the name is kept whole ("科技和统计处" is one department)."""
    if not known or name in known or not re.search("[和及]", name):
        return [name]
    parts = re.split("[和及]", name)
    if all(part in known for part in parts):
        return parts
    for match in re.finditer("[和及]", name):
        left, right = name[: match.start()], name[match.end() :]
        if left in known and right in known:
            return [left, right]
    return [name]


def parse_owners(content: str, known: Collection[str] = ()) -> Owners:
    """Read the inside of an owner parenthesis (rules in the module docstring);
    `known` names count as departments and allow "A和B" to be split."""
    entries: list[tuple[str | None, str]] = []
    label_role: str | None = None
    for segment in _split_top_level(content):
        segment = segment.strip()
        if not segment or _REMARK_RE.search(segment):
            continue
        role = label_role
        if label := _LABEL_RE.match(segment):
            label_role = role = _LABEL_ROLES.get(label.group(1), "co")
            segment = segment[label.end() :]
        segment = segment.removeprefix("由")  # 由A牵头
        territorial = _TERRITORIAL_RE.search(segment) if segment.endswith("责任") else None
        if territorial and territorial.start():
            segment, role = segment[: territorial.start()].rstrip(), "co"
        for suffixes, suffix_role in ((_CO_SUFFIXES, "co"), (_LEAD_SUFFIXES, "lead")):
            suffix = next((s for s in suffixes if segment.endswith(s) and segment != s), None)
            if suffix:
                segment, role = segment[: -len(suffix)].rstrip(), suffix_role
                break
        for name in _NAME_SPLIT.split(segment):
            name = _ETC_RE.sub("", name)
            entries += [(role, part) for part in _split_joined(name, known) if part]
    names = [name for _, name in entries]
    collective = [name for name in names if is_collective(name, known)]
    departments = [(role, name) for role, name in entries if name not in collective]
    leads = [name for role, name in departments if role == "lead"]
    if not leads:
        leads = [name for _, name in departments[:1]]
    co = [name for _, name in departments if name not in leads]
    return Owners(leads, co, names, list(dict.fromkeys(collective)))


_COLLECTIVE_RE = re.compile(
    r".{0,12}各.{0,12}(?:单位|部门|处室|科室|政府|区|县|市|镇|乡|街|街道|镇街|街镇|乡镇|园区|"
    r"委|局|办|成员)"
)
_TRAILING_REMARK_RE = re.compile(r"[(\uff08][^()\uff08\uff09]{1,10}[)\uff09]$")


def is_collective(name: str, known: Collection[str] = ()) -> bool:
    """Whether `name` names a group of owners rather than one department: "各区",
    "各镇(园区)", "各相关处室单位", "市安委会各成员单位", "有关单位". A known name
    (the department register) is a department whatever it says."""
    if name in known or not ("各" in name or name.endswith(("单位", "部门"))):
        return False
    base = _TRAILING_REMARK_RE.sub("", name)  # "各镇(园区)" → "各镇"
    if (
        not 2 <= len(base) <= 30
        or _NOT_IN_NAMES.search(base)
        or base.startswith(_NOT_NAME_PREFIXES)
    ):
        return False
    return (
        base in _GENERIC_OWNERS
        or bool(_GENERIC_UNIT_RE.search(base))
        or bool(_COLLECTIVE_RE.fullmatch(base))
    )


def looks_like_department(name: str, known: Collection[str] = ()) -> bool:
    """Whether `name` reads as an owner, a department or a collective one (rule in
    the module docstring); `known` holds names that count whatever they look like."""
    if name in known or is_collective(name, known):
        return True
    if (
        not 3 <= len(name) <= 30
        or _NOT_IN_NAMES.search(name)
        or name.startswith(_NOT_NAME_PREFIXES)
    ):
        return False
    ending = _DEPARTMENT_ENDING_RE.search(name)
    if ending is None:
        return False
    return not set(name[: ending.start()]) <= _COUNT_CHARS


def _owner_list(content: str, known: Collection[str]) -> Owners | None:
    owners = parse_owners(content, known)
    if owners.names and all(looks_like_department(n, known) for n in owners.names):
        return owners
    return None


_OPEN, _CLOSE = "(\uff08", ")\uff09"  # ASCII and full-width
_BRACKET_RE = re.compile(r"[()\uff08\uff09]")
_SENTENCE_END = "。;\uff1b!\uff01?\uff1f"
_CLAUSE_TRIM = " \t,\uff0c;\uff1b、。"


def _paren_groups(text: str) -> list[tuple[int, int]]:
    """Top-level parenthesis spans [start, end); unbalanced brackets are ignored."""
    groups, depth, start = [], 0, 0
    for bracket in _BRACKET_RE.finditer(text):  # visit brackets only, not every character
        index = bracket.start()
        if bracket.group() in _OPEN:
            if depth == 0:
                start = index
            depth += 1
        elif depth:
            depth -= 1
            if depth == 0:
                groups.append((start, index + 1))
    return groups


@dataclass
class _Reading:
    """What a task's joined text says: its body, owners and clauses, or a problem."""

    text: str = ""
    owners: Owners | None = None
    clauses: list[ParsedClause] = field(default_factory=list)
    problem: str = ""


def _read_task(number: int, text: str, known: Collection[str]) -> _Reading:
    groups = _paren_groups(text)
    if not groups or text[groups[-1][1] :].strip(_CLAUSE_TRIM + ".\uff0e"):
        return _Reading(problem=f"任务 {number} 末尾没有责任处室括号,文件可能不完整")
    start, end = groups[-1]
    content = text[start + 1 : end - 1]
    if not content.strip():
        return _Reading(problem=f"任务 {number} 的责任处室括号是空的")
    owners = _owner_list(content, known)
    if owners is None:
        return _Reading(
            problem=f"任务 {number} 末尾的括号“{text[start:end]}”不是责任处室名单,文件可能不完整"
        )
    clauses, boundary = [], 0
    for clause_start, clause_end in groups[:-1]:
        clause_owners = _owner_list(text[clause_start + 1 : clause_end - 1], known)
        if clause_owners is None:
            continue
        # "…工作(X)" and "…工作。(X)" both own the sentence they close.
        head_end = clause_start
        while head_end > boundary and text[head_end - 1] in _CLAUSE_TRIM:
            head_end -= 1
        begin = max([boundary] + [text.rfind(p, boundary, head_end) + 1 for p in _SENTENCE_END])
        if clause_text := text[begin:head_end].strip(_CLAUSE_TRIM):
            clauses.append(
                ParsedClause(
                    clause_text, clause_owners.lead, clause_owners.co, clause_owners.collective
                )
            )
        boundary = clause_end
    # "…工作(X),推动…落地。(Y、Z)": after the last clause of its own, the rest of the
    # task is a clause too, owned by the task's owners (task 47 of the seed).
    if clauses and (rest := text[boundary:start].strip(_CLAUSE_TRIM)):
        clauses.append(ParsedClause(rest, owners.lead, owners.co, owners.collective))
    return _Reading(text[:start].strip(), owners, clauses)


# ----------------------------------------------------------------------------- parse


@dataclass
class _TaskDraft:
    number: int
    line: int
    chunks: list[tuple[int, str]]
    kind: str = "arabic"  # "arabic" (1.) or "chinese" ((一))
    parent: _TaskDraft | None = None  # the (一) item a 1. task sits under
    children: int = 0
    owner_lines: list[tuple[int, str]] = field(default_factory=list)
    table: TableTask | None = None
    subsection: str | None = None


@dataclass
class _SectionDraft:
    number: int
    title: str
    line: int
    tasks: list[_TaskDraft] = field(default_factory=list)


def parse_plan(
    source: str | bytes,
    *,
    year: int | None = None,
    title: str | None = None,
    known: Mapping[str, str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    flood_season_start: tuple[int, int] = FLOOD_SEASON_START,
    columns: Mapping[str, Sequence[str]] = COLUMN_SYNONYMS,
    max_ratio: int = DEFAULT_MAX_RATIO,
) -> ParsedPlan:
    """Parse a plan given as text or bytes (plain text in UTF-8/UTF-16/GB18030, or
    a .docx, whose breakdown tables are read too). `year` and `title` override what
    the document says; `known` maps department names and aliases to canonical names
    and turns on unknown-name warnings; `columns` is the table header synonym table
    (`yingji.workplan.tables.COLUMN_SYNONYMS`). Raises `PlanDocumentError` listing
    every problem found."""
    blocks = read_blocks(source, max_bytes=max_bytes, max_ratio=max_ratio)
    return _parse_blocks(blocks, year, title, known, flood_season_start, columns)


def parse_plan_file(
    path: str | os.PathLike[str],
    *,
    year: int | None = None,
    title: str | None = None,
    known: Mapping[str, str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    flood_season_start: tuple[int, int] = FLOOD_SEASON_START,
    columns: Mapping[str, Sequence[str]] = COLUMN_SYNONYMS,
    max_ratio: int = DEFAULT_MAX_RATIO,
) -> ParsedPlan:
    """Parse a plan file (.txt or .docx) as `parse_plan` does; a file larger than
    `max_bytes` is refused from its size on disk, before it is read."""
    blocks = read_file_blocks(path, max_bytes=max_bytes, max_ratio=max_ratio)
    return _parse_blocks(blocks, year, title, known, flood_season_start, columns)


_OWNER_LINE_RE = re.compile(
    r"^[【\[]?(?:牵头|责任|主责|配合|协同|协办|参与)(?:责任)?(?:单位|部门|处室|科室)[】\]]?\s*[:\uff1a]"
)
_IMPLICIT_SECTION = "工作任务"


def _depth(text: str) -> int:
    return sum(text.count(c) for c in _OPEN) - sum(text.count(c) for c in _CLOSE)


def _is_owner_line(task: _TaskDraft, line: str) -> bool:
    """A "牵头单位:…" line of its own, not the wrapped inside of an owner parenthesis."""
    return (
        bool(_OWNER_LINE_RE.match(line))
        and _depth(line) >= 0
        and sum(_depth(chunk) for _, chunk in task.chunks) <= 0
    )


def _parse_blocks(
    blocks: list[tuple[int, Block]],
    year: int | None,
    title: str | None,
    known: Mapping[str, str] | None,
    flood_season_start: tuple[int, int],
    columns: Mapping[str, Sequence[str]],
) -> ParsedPlan:
    issues: list[Issue] = []
    warnings: list[Warning] = []
    # Names and aliases both count as known; canonical names may appear only as values.
    known_names = frozenset(known or ()) | frozenset((known or {}).values())
    header: list[tuple[int, str]] = []
    drafts: list[_SectionDraft] = []
    task: _TaskDraft | None = None
    chinese: _TaskDraft | None = None  # the last (一) item: a subsection if 1. follow
    table_problems = False
    for number, block in blocks:
        if isinstance(block, DocTable):
            task = chinese = None
            items, problems = read_table(block, columns)
            issues.extend(Issue(p.line, p.message) for p in problems)
            table_problems = table_problems or bool(problems)
            subsection: str | None = None
            for item in items:
                if isinstance(item, TableSection):
                    section_number = item.number or (drafts[-1].number + 1 if drafts else 1)
                    drafts.append(_SectionDraft(section_number, item.title, item.line))
                    subsection = None
                elif isinstance(item, TableSubsection):
                    subsection = f"{item.label}{item.title}"
                else:
                    if not drafts:
                        drafts.append(_SectionDraft(1, _IMPLICIT_SECTION, item.line))
                    drafts[-1].tasks.append(
                        _TaskDraft(
                            0, item.line, [], kind="table", table=item, subsection=subsection
                        )
                    )
            continue
        line = block.strip()
        if not line:
            continue
        if heading := _section_heading(line):
            drafts.append(_SectionDraft(heading[0], heading[1], number))
            task = chinese = None
        elif not drafts:
            header.append((number, line))
        elif start := _task_start(line):
            kind = "arabic" if start[2] else "chinese"
            task = _TaskDraft(start[0], number, [(number, start[1])] if start[1] else [], kind)
            if kind == "chinese":
                chinese = task
            elif chinese is not None:
                task.parent = chinese
                chinese.children += 1
            drafts[-1].tasks.append(task)
        elif task is not None and _is_owner_line(task, line):
            task.owner_lines.append((number, line))
        elif task is None:
            warnings.append(Warning(number, "这行文字不属于任何任务,已忽略"))
        else:
            task.chunks.append((number, line))

    written_title = header[0][1] if header and _looks_like_title(header[0][1]) else None
    preamble = "\n".join(text for _, text in header[1 if written_title else 0 :])
    year = year or _find_year(written_title, title, preamble)
    if year is None:
        issues.append(Issue(0, "找不到年度:标题和总体要求中都没有“20XX年”,请指定年度"))
    elif not 1900 <= year <= 2100:
        issues.append(Issue(0, f"年度 {year} 不在 1900–2100 之间"))
        year = None
    if title is None and year is not None:
        title = written_title or f"{year}年工作要点"
        if written_title is None:
            warnings.append(
                Warning(header[0][0] if header else 1, f"文件开头没有标题行,标题取为“{title}”")
            )

    # A (一) item with 1. tasks under it is a subsection heading, not a task.
    subsection_owners: dict[int, list[tuple[int, str]]] = {}
    for section in drafts:
        for draft in section.tasks:
            if draft.kind == "chinese" and draft.children:
                label = f"\uff08{_cn(draft.number)}\uff09{_join(draft.chunks).strip()}"
                draft.subsection = label
                subsection_owners[id(draft)] = draft.owner_lines
            elif draft.parent is not None:
                draft.subsection = (
                    f"\uff08{_cn(draft.parent.number)}\uff09{_join(draft.parent.chunks).strip()}"
                )
        section.tasks = [d for d in section.tasks if not (d.kind == "chinese" and d.children)]
    structured = any(
        d.kind == "table" or d.parent is not None for section in drafts for d in section.tasks
    )

    if not drafts:
        if not table_problems:
            issues.append(Issue(0, "没有找到任何部分(形如“一、…”的标题行)"))
    elif not any(section.tasks for section in drafts):
        if not table_problems:
            issues.append(Issue(0, "没有找到任何编号任务(形如“1.…”的行)"))
    # Two levels with numbering that restarts at 1 in a later section: read as the
    # structured layouts are (renumbered 1..N in document order, one warning).
    restarts = any(
        section.tasks and section.tasks[0].number == 1 and earlier
        for earlier, section in zip(
            _running_any(bool(s.tasks) for s in drafts), drafts, strict=True
        )
    )
    unowned = _names_no_owners(drafts, subsection_owners, known_names)
    if unowned:
        count = sum(len(section.tasks) for section in drafts)
        warnings.append(
            Warning(
                drafts[0].tasks[0].line if drafts[0].tasks else drafts[0].line,
                f"全文没有写明任何责任单位,{count} 个任务均按“{OWNERS_PENDING}”导入,"
                "请在导入后为每个任务指定牵头和配合单位",
            )
        )
    if structured or restarts:
        _check_section_numbering(drafts, issues)
        numbers = _renumber(drafts, issues, warnings)
    else:
        _check_numbering(drafts, issues)
        numbers = {id(d): d.number for section in drafts for d in section.tasks}

    sections = []
    all_drafts = [t for section in drafts for t in section.tasks]
    last_text = next((d for d in reversed(all_drafts) if d.kind != "table"), None)
    for section in drafts:
        if not section.tasks:
            warnings.append(
                Warning(section.line, f"部分“{_cn(section.number)}、{section.title}”下没有任务")
            )
        parsed = ParsedSection(section.number, section.title, section.line)
        for draft in section.tasks:
            if draft.table is not None:
                result = _finish_table_task(
                    draft, numbers[id(draft)], year, known_names, flood_season_start
                )
            else:
                inherited = subsection_owners.get(id(draft.parent)) if draft.parent else None
                result = _finish_task(
                    draft,
                    draft is last_text,
                    year,
                    known_names,
                    flood_season_start,
                    warnings,
                    numbers[id(draft)],
                    inherited,
                    structured or restarts,
                    unowned,
                )
            if isinstance(result, Issue):
                issues.append(result)
            else:
                parsed.tasks.append(result)
        sections.append(parsed)

    if issues:
        raise PlanDocumentError(sorted(issues, key=lambda issue: issue.line))
    assert year is not None and title is not None  # an issue was raised otherwise
    plan = ParsedPlan(title, year, preamble, extract_goals(preamble), sections, warnings)
    if known is not None:
        warnings.extend(_unknown_department_warnings(plan.tasks, known, known_names))
    warnings.sort(key=lambda warning: warning.line)
    return plan


OWNERS_PENDING = "待明确责任单位"
UNOWNED_MIN_TASKS = 3


def _running_any(flags) -> list[bool]:
    """For each position: whether any earlier flag was true."""
    seen, out = False, []
    for flag in flags:
        out.append(seen)
        seen = seen or flag
    return out


def _names_no_owners(
    drafts: list[_SectionDraft],
    subsection_owners: dict[int, list[tuple[int, str]]],
    known: Collection[str],
) -> bool:
    """Whether the plan names no owners at all: text tasks only, at least
    `UNOWNED_MIN_TASKS` of them (one or two tasks without owners are more likely a
    cut-off document), no owner lines, and no parenthesis that is an owner list."""
    tasks = [d for section in drafts for d in section.tasks]
    if len(tasks) < UNOWNED_MIN_TASKS or any(d.kind == "table" for d in tasks):
        return False
    if any(d.owner_lines for d in tasks) or any(subsection_owners.values()):
        return False
    for draft in tasks:
        text = _join(draft.chunks)
        for start, end in _paren_groups(text):
            if _owner_list(text[start + 1 : end - 1], known) is not None:
                return False
    return True


def _check_section_numbering(drafts: list[_SectionDraft], issues: list[Issue]) -> None:
    for previous, section in zip([None, *drafts], drafts, strict=False):
        expected = previous.number + 1 if previous else 1
        if section.number != expected:
            issues.append(
                Issue(
                    section.line,
                    f"部分序号“{_cn(section.number)}、”顺序不对,应为“{_cn(expected)}、”",
                )
            )


def _check_numbering(drafts: list[_SectionDraft], issues: list[Issue]) -> None:
    _check_section_numbering(drafts, issues)
    seen: dict[int, int] = {}
    last = 0
    for task in (t for section in drafts for t in section.tasks):
        if task.number in seen:
            issues.append(
                Issue(
                    task.line,
                    f"任务序号 {task.number} 重复(第{seen[task.number]}行已有任务 {task.number})",
                )
            )
            continue
        seen[task.number] = task.line
        if task.number > last + 1:
            missing = f"{last + 1}" if task.number == last + 2 else f"{last + 1}–{task.number - 1}"
            issues.append(Issue(task.line, f"缺少任务序号 {missing}"))
        elif task.number <= last:
            issues.append(Issue(task.line, f"任务序号 {task.number} 顺序错乱(前一个任务是 {last})"))
        last = max(last, task.number)


def _renumber(
    drafts: list[_SectionDraft], issues: list[Issue], warnings: list[Warning]
) -> dict[int, int]:
    """Structured layouts (three levels, tables): written numbers may restart in each
    section or subsection; inside one they must run on by one. Tasks are numbered
    1..N in document order; a warning says so when that differs from what is written."""
    numbers: dict[int, int] = {}
    previous: dict[tuple[str, int], _TaskDraft] = {}  # last task by (kind, container)
    last_by_kind: dict[str, int] = {}
    first_change: tuple[int, str] | None = None
    sequence = 0
    for section in drafts:
        for draft in section.tasks:
            sequence += 1
            numbers[id(draft)] = sequence
            if draft.kind == "table":
                written = draft.table.number.rstrip(".\uff0e、 ") if draft.table else ""
                written_number = int(written) if written.isdigit() else None
                where = draft.table.where if draft.table else ""
            else:
                written_number = draft.number
                where = f"第{draft.line}行"
                container = (draft.kind, id(draft.parent or section))
                before = previous.get(container)
                continuing = last_by_kind.get(draft.kind, 0) + 1
                if before is None and draft.number not in (1, continuing):
                    issues.append(
                        Issue(draft.line, f"任务序号 {draft.number} 不对,应为 1 或 {continuing}")
                    )
                elif before is not None and draft.number == before.number:
                    issues.append(
                        Issue(
                            draft.line,
                            f"任务序号 {draft.number} 重复"
                            f"(第{before.line}行已有任务 {draft.number})",
                        )
                    )
                elif before is not None and draft.number != before.number + 1:
                    issues.append(
                        Issue(
                            draft.line, f"任务序号 {draft.number} 顺序不对,应为 {before.number + 1}"
                        )
                    )
                previous[container] = draft
                last_by_kind[draft.kind] = draft.number
            if written_number is not None and written_number != sequence and first_change is None:
                first_change = (draft.line, f"{where}原序号 {written_number} 改为 {sequence}")
    if first_change is not None:
        warnings.append(
            Warning(
                first_change[0],
                "任务序号按部分或小节分别编写,已按全文顺序"
                f"重新编号为 1–{sequence}(如{first_change[1]})",
            )
        )
    return numbers


def _finish_task(
    draft: _TaskDraft,
    is_last: bool,
    year: int | None,
    known: Collection[str],
    flood_season_start: tuple[int, int],
    warnings: list[Warning],
    number: int | None = None,
    inherited: list[tuple[int, str]] | None = None,
    structured: bool = False,
    unowned: bool = False,
) -> ParsedTask | Issue:
    chunks = draft.chunks
    if unowned:
        # A plan that names no owners anywhere (provincial plans): every task is
        # kept whole, owners to be assigned after import (待明确责任单位).
        text = _join(chunks).strip()
        hints = read_time_hints(text, year, flood_season_start=flood_season_start) if year else None
        return ParsedTask(
            number=draft.number if number is None else number,
            text=text,
            lead=[],
            co=[],
            line=draft.line,
            end_line=chunks[-1][0] if chunks else draft.line,
            due=hints.due if hints else None,
            recurrence=hints.recurrence if hints else None,
            key_dates=hints.key_dates if hints else [],
            subsection=draft.subsection,
            source=f"第{draft.line}行",
            owners_pending=True,
        )
    owner_lines = draft.owner_lines or inherited or []
    if owner_lines:
        content = "\uff1b".join(text for _, text in owner_lines)
        if _owner_list(content, known) is None:
            return Issue(
                owner_lines[0][0],
                f"任务 {draft.number} 的责任单位行“{content}”中有不像单位名称的内容",
            )
        reading = _read_task(draft.number, f"{_join(chunks)}\uff08{content}\uff09", known)
    else:
        reading = _read_task(draft.number, _join(chunks), known)
    if reading.problem and is_last and not owner_lines:
        # The last task may be followed by a signature or a date: cut after the last
        # line that closes with a parenthesis, if that makes an owner parenthesis.
        keep = next(
            (
                k
                for k in range(len(chunks) - 1, 0, -1)
                if chunks[k - 1][1].rstrip(_CLAUSE_TRIM + ".\uff0e").endswith(tuple(_CLOSE))
            ),
            0,
        )
        shorter = _read_task(draft.number, _join(chunks[:keep]), known) if keep else reading
        if not shorter.problem:
            warnings.extend(
                Warning(line, "这行文字不属于任何任务,已忽略") for line, _ in chunks[keep:]
            )
            reading, chunks = shorter, chunks[:keep]
    if reading.owners is None:
        problem = reading.problem
        if structured and "末尾没有责任处室括号" in problem:
            where = f"({draft.subsection})" if draft.subsection else ""
            problem = (
                f"任务 {draft.number}{where}没有写明责任单位:末尾没有责任处室括号,"
                "也没有“牵头单位:…”或“责任单位:…”行"
            )
        return Issue(draft.line, problem)
    hints = (
        read_time_hints(reading.text, year, flood_season_start=flood_season_start) if year else None
    )
    return ParsedTask(
        number=draft.number if number is None else number,
        text=reading.text,
        lead=reading.owners.lead,
        co=reading.owners.co,
        line=draft.line,
        end_line=max(
            [chunks[-1][0] if chunks else draft.line, *(line for line, _ in draft.owner_lines)]
        ),
        clauses=reading.clauses,
        due=hints.due if hints else None,
        recurrence=hints.recurrence if hints else None,
        key_dates=hints.key_dates if hints else [],
        subsection=draft.subsection,
        source=f"第{draft.line}行",
        collective=reading.owners.collective,
    )


_PLACEHOLDERS = frozenset({"无", "/", "\\", "-", "—", "——", "－", "\uff0f", "暂无", "不涉及"})
_ROLE_WORDS = re.compile(r"牵头|配合|协助|协同|协办|参与|负责|[:\uff1a]")


def _cell_names(text: str) -> str:
    text = text.strip()
    return "" if text in _PLACEHOLDERS else re.sub(r"\s*\n\s*", "、", text)


def _cell_owners(
    lead_text: str, co_text: str, lead_kind: str, known: Collection[str] = ()
) -> tuple[list[str], list[str], list[str]]:
    """(leads, co-organisers, collective owners) of one table row: a 牵头单位 cell's
    departments all lead unless the cell itself says who leads; a 责任单位 cell reads
    like a parenthesis."""
    lead_text, co_text = _cell_names(lead_text), _cell_names(co_text)
    owners = parse_owners(lead_text, known) if lead_text else Owners([], [], [])
    collective = list(owners.collective)
    if lead_kind == "lead" and not _ROLE_WORDS.search(lead_text):
        leads, co = [n for n in owners.names if n not in collective], []
    else:
        leads, co = list(owners.lead), list(owners.co)
    co_owners = parse_owners(co_text, known) if co_text else Owners([], [], [])
    for name in co_owners.names:
        if name in co_owners.collective:
            if name not in collective:
                collective.append(name)
        elif name not in leads and name not in co:
            co.append(name)
    return leads, co, collective


def _finish_table_task(
    draft: _TaskDraft,
    number: int,
    year: int | None,
    known: Collection[str],
    flood_season_start: tuple[int, int],
) -> ParsedTask | Issue:
    item = draft.table
    assert item is not None
    heading = _join([(0, part.strip()) for part in item.task.split("\n") if part.strip()])
    measures = [
        _join([(0, p.strip()) for p in row.measure.split("\n") if p.strip()])
        for row in item.rows
        if row.measure
    ]
    if not heading and not measures:
        return Issue(item.line, f"{item.where}:“工作任务”列为空")
    if heading and measures:
        body = (
            "\uff1b".join(m.rstrip("。;\uff1b") for m in measures)
            if len(measures) > 1
            else measures[0]
        )
        separator = "" if heading[-1] in "。:\uff1a;\uff1b" else "\uff1a"
        text = f"{heading}{separator}{body}"
    else:
        text = heading or "\uff1b".join(measures)
    cells = [(row, *_cell_owners(row.lead, row.co, item.lead_kind, known)) for row in item.rows]
    rows = [(row, row_leads, row_co) for row, row_leads, row_co, _ in cells]
    leads: list[str] = []
    co: list[str] = []
    collective: list[str] = []
    for _, row_leads, _ in rows:
        leads += [name for name in row_leads if name not in leads]
    for _, _, row_co in rows:
        co += [name for name in row_co if name not in co and name not in leads]
    for *_, row_collective in cells:
        collective += [name for name in row_collective if name not in collective]
    if not leads and not collective:
        column = "牵头单位" if item.lead_kind == "lead" else "责任单位"
        short = text if len(text) <= 20 else text[:19] + "…"
        return Issue(
            item.line, f"{item.where}:任务“{short}”的“{column}”列为空,每个任务都要有牵头单位"
        )
    clauses = []
    if len({(tuple(r_leads), tuple(r_co)) for _, r_leads, r_co in rows if r_leads}) > 1:
        clauses = [
            ParsedClause(row.measure.strip(), r_leads, r_co, r_collective)
            for row, r_leads, r_co, r_collective in cells
            if row.measure and r_leads
        ]
    due = recurrence = None
    key_dates: list[str] = []
    if year:
        hints = read_time_hints(text, year, flood_season_start=flood_season_start)
        cells = list(dict.fromkeys(row.deadline for row in item.rows if row.deadline))
        deadlines = [
            read_deadline(cell, year, flood_season_start=flood_season_start) for cell in cells
        ]
        due = min((d.due for d in deadlines if d.due), default=hints.due)
        recurrence = hints.recurrence or next(
            (d.recurrence for d in deadlines if d.recurrence), None
        )
        for found in [hints.key_dates, *(d.key_dates for d in deadlines)]:
            key_dates += [name for name in found if name not in key_dates]
    return ParsedTask(
        number=number,
        text=text,
        lead=leads,
        co=co,
        line=item.line,
        end_line=item.end_line,
        clauses=clauses,
        due=due,
        recurrence=recurrence,
        key_dates=key_dates,
        subsection=draft.subsection,
        source=item.where,
        collective=collective,
    )


def _unknown_department_warnings(
    tasks: list[ParsedTask], known: Mapping[str, str], known_names: Collection[str]
) -> list[Warning]:
    warned: set[str] = set()
    found = []
    for task in tasks:
        names = [*task.lead, *task.co]
        for clause in task.clauses:
            names += [*clause.lead, *clause.co]
        for name in names:
            if name in known_names or name in warned:
                continue
            warned.add(name)
            nearest = _nearest_known(name, known)
            found.append(
                Warning(
                    task.line,
                    f"未知部门“{name}”,最接近的已知部门:{'、'.join(nearest)}"
                    if nearest
                    else f"未知部门“{name}”,没有相近的已知部门",
                )
            )
    return found


def _nearest_known(name: str, known: Mapping[str, str], limit: int = 3) -> list[str]:
    """Canonical names of the known departments most like `name`, by difflib's ratio
    over characters (names and aliases both count, the best of each decides; ties
    in name order)."""
    scores: dict[str, float] = {}
    for written, canonical in [*known.items(), *((c, c) for c in known.values())]:
        ratio = difflib.SequenceMatcher(None, name, written).ratio()
        if ratio >= 0.5 and ratio > scores.get(canonical, 0.0):
            scores[canonical] = ratio
    return sorted(scores, key=lambda c: (-scores[c], c))[:limit]


# ---------------------------------------------------------------------------- render


def render_owners(lead: Sequence[str], co: Sequence[str], collective: Sequence[str]) -> str:
    """An owner parenthesis's content in the accepted form that says exactly these
    owners: "牵头单位：A、B；配合单位：C、各区政府", or the collective names alone."""
    if not lead:
        return "、".join([*co, *collective])
    content = "牵头单位\uff1a" + "、".join(lead)
    if co or collective:
        content += "\uff1b配合单位\uff1a" + "、".join([*co, *collective])
    return content


def render_plan(plan: ParsedPlan) -> str:
    """The plan as a text document in the accepted form: title, preamble, sections,
    subsection headings and tasks numbered 1..N, each with its owner parenthesis
    (none for tasks whose owners are pending). Parsing it again (with the same year
    and `known`) gives the same tasks and owners; a breakdown table's rows come
    back as text tasks, without their per-row clauses."""
    lines = [plan.title]
    lines += [line for line in plan.preamble.split("\n") if line.strip()]
    for section in plan.sections:
        lines.append(f"{_cn(section.number)}、{section.title}")
        subsection = None
        for task in section.tasks:
            if task.subsection and task.subsection != subsection:
                lines.append(task.subsection)
            subsection = task.subsection
            line = f"{task.number}.{task.text}"
            if not task.owners_pending:
                line += f"\uff08{render_owners(task.lead, task.co, task.collective)}\uff09"
            lines.append(line)
    return "\n".join(lines) + "\n"
