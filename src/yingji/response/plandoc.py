"""Plan .docx import: read a plan document into the structured draft form
(plans.save_structure) for an editor to finish.

What it reads, line by line (paragraphs and table rows):
- the title: the first non-empty paragraph;
- organisation: under a heading containing 组织机构/指挥体系, lines
  "<name>:<lead>牵头,成员单位:<a>、<b>…" or "<name>由<lead>牵头";
- response levels: headings "一级响应"… "四级响应" (or Ⅰ级…Ⅳ级响应) start a level;
- action cards: under a level, lines "<department>:<measure>" — the time limit
  is read from the measure ("30分钟内", "1小时内", "2小时内"; 60 minutes when
  none is written);
- triggers: lines under a level containing 预警 and a colour (暴雨红色预警 →
  alert 暴雨 red at that level).

Departments must be known (name or alias); an unknown one is an error naming
its paragraph. Nothing is saved unless the whole document is accepted.
"""

from __future__ import annotations

import io
import re
from typing import Any

from django.db import transaction

from yingji.core import inputlimits
from yingji.response import addressees, plans, triggers
from yingji.response.models import EmergencyPlan

LEVEL_WORDS = {
    "一": "I",
    "二": "II",
    "三": "III",
    "四": "IV",
    "Ⅰ": "I",
    "Ⅱ": "II",
    "Ⅲ": "III",
    "Ⅳ": "IV",
    "I": "I",
    "II": "II",
    "III": "III",
    "IV": "IV",
}
_LEVEL_HEAD = re.compile(
    r"^\s*(?:[（(]?[一二三四五六七八九十\d]+[)）、.]\s*)?(一|二|三|四|Ⅰ|Ⅱ|Ⅲ|Ⅳ|IV|III|II|I)级(?:应急)?响应"
)
_ORG_HEAD = re.compile(r"组织机构|指挥体系|组织指挥")
_CARD = re.compile(r"^\s*(?:\d+[.、]\s*)?([^:：,，。]{2,20})[:：](.+)$")
_LIMIT = re.compile(r"(\d+)\s*(分钟|小时)内")
_LEAD = re.compile(r"^\s*([^:：]{2,20})[:：]?\s*(?:由)?([^,，。;；]{2,20}?)牵头")
_MEMBERS = re.compile(r"成员单位[:：]?(.+)$")
_COLOURS = {"蓝色": "blue", "黄色": "yellow", "橙色": "orange", "红色": "red"}
_SECTION = re.compile(r"^\s*[一二三四五六七八九十]+[、.]")


class PlanDocError(ValueError):
    """Problems of a plan document, every one with its paragraph number."""

    def __init__(self, filename: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{filename}:" + ";".join(problems))


def _lines(data: bytes) -> list[str]:
    from docx import Document

    doc = Document(io.BytesIO(data))
    out = [p.text.strip() for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells]
            if len(cells) >= 2 and cells[0] and cells[1]:
                out.append(f"{cells[0]}:{'。'.join(cells[1:])}")
    return out


def limit_minutes(text: str) -> int | None:
    """'30分钟内' → 30, '2小时内' → 120, None when no limit is written."""
    m = _LIMIT.search(text)
    if not m:
        return None
    n = int(m.group(1))
    return n * 60 if m.group(2) == "小时" else n


def parse_lines(lines: list[str], filename: str = "文档") -> tuple[dict[str, Any], list[str]]:
    """The draft structure of a plan and the problems found (pure but for the
    department register, which check happens in `import_docx`)."""
    data: dict[str, Any] = {
        "title": "",
        "kind": "special",
        "triggers": [],
        "groups": [],
        "cards": [],
        "source_file": filename,
    }
    problems: list[str] = []
    level: str | None = None
    in_org = False
    for n, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        if not data["title"]:
            data["title"] = line
            continue
        head = _LEVEL_HEAD.match(line)
        if head:
            level, in_org = LEVEL_WORDS[head.group(1)], False
            colour = next((c for w, c in _COLOURS.items() if w in line), None)
            if colour and "预警" in line:
                data["triggers"].append(
                    {
                        "source": "alert",
                        "hazard": triggers.hazard_of(line),
                        "min_level": colour,
                        "response_level": level,
                    }
                )
            continue
        if _ORG_HEAD.search(line) and len(line) < 30:
            in_org, level = True, None
            continue
        if _SECTION.match(line) and len(line) < 30:
            in_org, level = False, None
            continue
        if in_org:
            lead = _LEAD.match(line)
            if lead:
                members = _MEMBERS.search(line)
                data["groups"].append(
                    {
                        "name": lead.group(1).strip(),
                        "lead": lead.group(2).strip(),
                        "members": [
                            m.strip()
                            for m in re.split(r"[、,，]", members.group(1).rstrip("。"))
                            if m.strip()
                        ]
                        if members
                        else [],
                        "duties": "",
                        "line": n,
                    }
                )
            continue
        if level is None:
            continue
        colour = next((c for w, c in _COLOURS.items() if w in line), None)
        if colour and "预警" in line and ":" not in line and ":" not in line:
            data["triggers"].append(
                {
                    "source": "alert",
                    "hazard": triggers.hazard_of(line),
                    "min_level": colour,
                    "response_level": level,
                }
            )
            continue
        card = _CARD.match(line)
        if card:
            measure = card.group(2).strip()
            limit = limit_minutes(measure) or 60
            data["cards"].append(
                {
                    "level": level,
                    "department": card.group(1).strip(),
                    "title": re.split(r"[,，。;；]", measure)[0][:60],
                    "text": measure,
                    "ack": min(15, limit),
                    "limit": limit,
                    "line": n,
                }
            )
    if not data["title"]:
        problems.append("文档为空,没有标题")
    if not data["cards"]:
        problems.append("没有读到任何分级响应措施(需要“一级响应”等标题和“单位:措施”段落)")
    return data, problems


@transaction.atomic
def import_docx(upload: Any, *, filename: str | None = None) -> EmergencyPlan:
    """Import a .docx as a draft plan; PlanDocError lists every problem with its paragraph."""
    filename = filename or getattr(upload, "name", "文档")
    # PlanDocError names the file itself: the limits' messages without their prefix.
    if problem := inputlimits.upload_too_large(upload, "YINGJI_PLAN_MAX_BYTES"):
        raise PlanDocError(filename, [problem.split(":", 1)[1]])  # before it is read
    raw = upload.read() if hasattr(upload, "read") else bytes(upload)
    if problem := inputlimits.archive_problem(raw, filename, "YINGJI_PLAN_MAX_BYTES"):
        raise PlanDocError(filename, [problem.removeprefix(f"{filename}:")])
    try:
        lines = _lines(raw)
    except Exception as exc:  # python-docx raises several types for a broken file
        raise PlanDocError(
            filename, [f"无法读取 Word 文档({type(exc).__name__}),请确认是 .docx 格式"]
        ) from exc
    data, problems = parse_lines(lines, filename)
    for c in data["cards"]:
        if (
            addressees.addressee_of(c["department"]) == addressees.DEPARTMENT
            and plans.find_department(c["department"]) is None
        ):
            problems.append(f"第 {c['line']} 段:未知的单位“{c['department']}”")
    for g in data["groups"]:
        for name in [g["lead"], *g["members"]]:
            if (
                addressees.addressee_of(name) == addressees.DEPARTMENT
                and plans.find_department(name) is None
            ):
                problems.append(f"第 {g['line']} 段:未知的单位“{name}”")
    if problems:
        raise PlanDocError(filename, problems)
    for item in data["cards"] + data["groups"]:
        item.pop("line", None)
    return plans.save_structure(data, status=EmergencyPlan.Status.DRAFT)
