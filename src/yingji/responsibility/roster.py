"""The 三防责任人 register's rules, without Django: the objects a person can be
responsible for, which kinds of responsible person each object needs, the checks
of an imported register (each problem named by row and column), phone numbers,
and the 一键通 installation progress per district and street.

Sources for the kinds (recorded in docs/responsibility.md):
- 行政责任人 / 技术责任人 / 巡查责任人 for reservoirs: the "三个责任人" of small
  reservoirs' flood safety (水利部, 小型水库防汛"三个责任人"履职手册), applied to
  embankments the same way;
- 山洪灾害危险区 and 地质灾害隐患点: a 行政责任人 of the area and a 巡查 (监测)
  责任人 on site (广东省防汛防旱防风 and 地质灾害防治 practice);
- administrative areas (市、区、镇街、村居): the 行政责任人 (the head of government,
  防汛行政首长负责制, 《中华人民共和国防洪法》第三十八条);
- 内涝点 and 在建工地: an administrative and an on-site (巡查) person; a site adds
  the contractor's technical person.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

ROLE_KINDS: dict[str, str] = {
    "admin": "行政责任人",
    "technical": "技术责任人",
    "patrol": "巡查责任人",
}

# key: (label, the kinds of responsible person the object must have)
OBJECT_KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "area": ("行政区域", ("admin",)),
    "reservoir": ("水库", ("admin", "technical", "patrol")),
    "embankment": ("堤防", ("admin", "technical", "patrol")),
    "flash_flood": ("山洪灾害危险区", ("admin", "patrol")),
    "geo_hazard": ("地质灾害隐患点", ("admin", "patrol")),
    "waterlogging": ("内涝点", ("admin", "patrol")),
    "construction": ("在建工地", ("admin", "technical", "patrol")),
    "other": ("其他", ("admin",)),
}

LEVELS: dict[str, str] = {"city": "市", "district": "区", "street": "镇街", "community": "村居"}

# The columns of an imported register: key → accepted headers (first is the one
# exported). A header matches after stripping spaces and a trailing '*'.
COLUMNS: dict[str, tuple[str, ...]] = {
    "region": ("区划", "行政区划", "区划代码", "所在区划", "镇街", "所属区划"),
    "object_kind": ("对象类型", "类型", "责任对象类型"),
    "object_name": ("责任对象", "对象名称", "名称"),
    "object_code": ("对象编码", "编码", "工程编码"),
    "role": ("责任人类别", "责任类别", "类别"),
    "name": ("姓名", "责任人", "责任人姓名"),
    "post": ("职务", "单位及职务", "工作单位及职务"),
    "phone": ("手机", "手机号码", "联系电话", "电话"),
    "public_phone": ("公示电话", "值班电话", "办公电话"),
    "term_start": ("任期开始", "任职日期", "起始日期"),
    "term_end": ("任期结束", "任期至", "截止日期"),
    "app_installed_on": ("一键通安装日期", "一键通安装", "一键通"),
}
REQUIRED = ("region", "object_kind", "object_name", "role", "name", "post", "phone")
LABELS = {key: headers[0] for key, headers in COLUMNS.items()}

MOBILE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")
MAX_ROWS = 100_000
MAX_CELL = 200


class RosterError(ValueError):
    """A problem with the register's input, in words for the user."""


def kind_of(text: str, table: Mapping[str, tuple | str]) -> str | None:
    """The key for a key or its Chinese label (both accepted in imports)."""
    text = (text or "").strip()
    if text in table:
        return text
    for key, value in table.items():
        label = value[0] if isinstance(value, tuple) else value
        if text == label:
            return key
    return None


def required_roles(object_kind: str) -> tuple[str, ...]:
    return OBJECT_KINDS.get(object_kind, OBJECT_KINDS["other"])[1]


def missing_roles(object_kind: str, present: Iterable[str]) -> list[str]:
    """The labels of the kinds of responsible person the object still lacks."""
    have = set(present)
    return [ROLE_KINDS[r] for r in required_roles(object_kind) if r not in have]


def normal_phone(text: str) -> str:
    """Digits (and a landline's dashes) only: '138 0013 8000' → '13800138000'."""
    text = re.sub(r"[\s()()]", "", str(text or ""))
    if text.startswith("+86"):
        text = text[3:]
    return text


def phone_problem(text: str) -> str | None:
    if not text:
        return "缺少手机号码"
    if MOBILE.match(text) or LANDLINE.match(text):
        return None
    return f"号码格式不对:{text}(手机 11 位,座机如 020-83001234)"


def mask_phone(phone: str) -> str:
    """A mobile number as shown on public pages: 138****8000."""
    if MOBILE.match(phone or ""):
        return f"{phone[:3]}****{phone[-4:]}"
    return phone or ""


def header_map(headers: Iterable[str]) -> tuple[dict[int, str], list[str]]:
    """Which column holds which field; the problems (unknown required columns)."""
    wanted = {}
    for key, names in COLUMNS.items():
        for name in names:
            wanted.setdefault(name, key)
    found: dict[int, str] = {}
    for index, header in enumerate(headers):
        clean = re.sub(r"\s+", "", str(header or "")).rstrip("*")
        key = wanted.get(clean) or (clean if clean in COLUMNS else None)
        if key and key not in found.values():
            found[index] = key
    problems = [f"缺少列“{LABELS[key]}”" for key in REQUIRED if key not in found.values()]
    return found, problems


def parse_date(text: object) -> dt.date | None:
    if text in (None, ""):
        return None
    if isinstance(text, dt.datetime):
        return text.date()
    if isinstance(text, dt.date):
        return text
    value = str(text).strip()
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise RosterError(f"日期无法识别:{value}(应为 2022-03-31)")


@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"第 {self.row} 行" + (f"“{self.column}”列" if self.column else "")
        return f"{where}:{self.message}"


@dataclass
class RosterRow:
    row: int
    region_code: str
    object_kind: str
    object_name: str
    object_code: str
    role: str
    name: str
    post: str
    phone: str
    public_phone: str = ""
    term_start: dt.date | None = None
    term_end: dt.date | None = None
    app_installed_on: dt.date | None = None

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.region_code, self.object_kind, self.object_name, self.role)


@dataclass
class Checked:
    rows: list[RosterRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def bad_rows(self) -> set[int]:
        return {p.row for p in self.problems}

    def good_rows(self) -> list[RosterRow]:
        bad = self.bad_rows
        return [r for r in self.rows if r.row not in bad]


def check_rows(
    rows: Iterable[Mapping[str, object]],
    regions: Mapping[str, str],
    *,
    first_row: int = 2,
) -> Checked:
    """Check an imported register. `rows` are dicts by field key (see header_map);
    `regions` maps both codes and names of the regions the importer may write to
    their codes. Every problem names its row and column; a row with a problem is
    kept out of `good_rows()`.

    The same object and kind of responsible person twice in one file is refused
    (the second row names the first); so is one mobile number under two names."""
    out = Checked()
    seen: dict[tuple, int] = {}
    phones: dict[str, tuple[str, int]] = {}
    for n, raw in enumerate(rows, start=first_row):
        if n - first_row >= MAX_ROWS:
            out.problems.append(Problem(n, "", f"超过 {MAX_ROWS:,} 行,请分区导入"))
            break
        cell = {k: str(v).strip() if v is not None else "" for k, v in raw.items()}
        if not any(cell.values()):
            continue
        problems: list[Problem] = []
        for key in REQUIRED:
            if not cell.get(key):
                problems.append(Problem(n, LABELS[key], "不能为空"))
        for key, value in cell.items():
            if len(value) > MAX_CELL:
                problems.append(Problem(n, LABELS.get(key, key), f"超过 {MAX_CELL} 个字"))
        region = regions.get(cell.get("region", ""))
        if cell.get("region") and region is None:
            problems.append(
                Problem(n, LABELS["region"], f"区划不存在或不在本账号范围:{cell['region']}")
            )
        object_kind = kind_of(cell.get("object_kind", ""), OBJECT_KINDS)
        if cell.get("object_kind") and object_kind is None:
            allowed = "、".join(v[0] for v in OBJECT_KINDS.values())
            problems.append(
                Problem(n, LABELS["object_kind"], f"应为{allowed}之一:{cell['object_kind']}")
            )
        role = kind_of(cell.get("role", ""), ROLE_KINDS)
        if cell.get("role") and role is None:
            allowed = "、".join(ROLE_KINDS.values())
            problems.append(Problem(n, LABELS["role"], f"应为{allowed}之一:{cell['role']}"))
        phone = normal_phone(cell.get("phone", ""))
        if cell.get("phone") and (p := phone_problem(phone)):
            problems.append(Problem(n, LABELS["phone"], p))
        public_phone = normal_phone(cell.get("public_phone", ""))
        if public_phone and (p := phone_problem(public_phone)):
            problems.append(Problem(n, LABELS["public_phone"], p))
        dates = {}
        for key in ("term_start", "term_end", "app_installed_on"):
            try:
                dates[key] = parse_date(raw.get(key))
            except RosterError as exc:
                problems.append(Problem(n, LABELS[key], str(exc)))
        if dates.get("term_start") and dates.get("term_end"):
            if dates["term_end"] < dates["term_start"]:
                problems.append(Problem(n, LABELS["term_end"], "任期结束早于开始"))
        record = RosterRow(
            row=n,
            region_code=region or "",
            object_kind=object_kind or "",
            object_name=cell.get("object_name", ""),
            object_code=cell.get("object_code", ""),
            role=role or "",
            name=cell.get("name", ""),
            post=cell.get("post", ""),
            phone=phone,
            public_phone=public_phone,
            term_start=dates.get("term_start"),
            term_end=dates.get("term_end"),
            app_installed_on=dates.get("app_installed_on"),
        )
        if not problems and record.key in seen:
            problems.append(
                Problem(
                    n,
                    LABELS["role"],
                    f"与第 {seen[record.key]} 行重复:{record.object_name}的"
                    f"{ROLE_KINDS[record.role]}只能有一人",
                )
            )
        if not problems and phone in phones and phones[phone][0] != record.name:
            other_name, other_row = phones[phone]
            problems.append(
                Problem(n, LABELS["phone"], f"与第 {other_row} 行({other_name})号码相同")
            )
        if not problems:
            seen[record.key] = n
            phones.setdefault(phone, (record.name, n))
        out.rows.append(record)
        out.problems.extend(problems)
    return out


# ------------------------------------------------------------- 一键通 progress

INSTALLED, PENDING, OVERDUE = "installed", "pending", "overdue"
APP_STATES = {INSTALLED: "已安装", PENDING: "未安装", OVERDUE: "逾期未安装"}


def app_state(installed_on: dt.date | None, deadline: dt.date | None, today: dt.date) -> str:
    if installed_on is not None:
        return INSTALLED
    if deadline is not None and today > deadline:
        return OVERDUE
    return PENDING


@dataclass
class ProgressLine:
    code: str
    name: str
    installed: int = 0
    pending: int = 0
    overdue: int = 0
    deadline: dt.date | None = None

    @property
    def total(self) -> int:
        return self.installed + self.pending + self.overdue

    @property
    def rate(self) -> float:
        return self.installed / self.total if self.total else 0.0


def progress(
    people: Iterable[tuple[str, dt.date | None]],
    area_of: Mapping[str, tuple[str, str]],
    deadlines: Mapping[str, dt.date],
    today: dt.date,
) -> list[ProgressLine]:
    """One line per area: `people` are (region code, installed on); `area_of` maps
    a region code to the (code, name) of the area it is counted in (its district,
    or its street); `deadlines` are per district code (a street takes its
    district's). Sorted by the share installed, lowest first (who to chase)."""
    lines: dict[str, ProgressLine] = {}
    for code, installed_on in people:
        area = area_of.get(code)
        if area is None:
            continue
        line = lines.get(area[0])
        if line is None:
            deadline = deadlines.get(area[0][:6])
            line = lines[area[0]] = ProgressLine(area[0], area[1], deadline=deadline)
        state = app_state(installed_on, line.deadline, today)
        setattr(line, state, getattr(line, state) + 1)
    return sorted(lines.values(), key=lambda line: (line.rate, -line.overdue, line.code))
