"""Departments: load the shipped list, resolve names and aliases, and let an
administrator decide near-duplicates ("X 可能与 Y 相同") by merging or dismissing.

Nothing is ever merged automatically: loading only raises `MergeSuggestion` rows
(the rule is in `deptnames`). A merge keeps the merged department as a row
(`merged_into` set, inactive) so old references, the audit log and `resolve()` of
its name keep working, and re-points every foreign key to the surviving department.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from yingji.core import audit, deptnames
from yingji.core.models import (
    Department,
    DepartmentAlias,
    DepartmentKind,
    MergeSuggestion,
    Region,
)

DEFAULT_FILE = Path(__file__).resolve().parent / "data" / "departments.csv"
COLUMNS = ("name", "kind", "aliases", "region_code", "sort_order")
ALIAS_SEPARATOR = "|"
DEFAULT_SORT_ORDER = 100
MAX_NAME_LENGTH = Department._meta.get_field("name").max_length

_KIND_BY_TEXT = {
    **{k.value: k.value for k in DepartmentKind},
    **{k.label: k.value for k in DepartmentKind},
}


# ---------------------------------------------------------------- file reading


@dataclass(frozen=True)
class Problem:
    """One bad cell of a department file."""

    line: int
    column: str
    message: str


class DepartmentFileError(ValueError):
    """A department file that cannot be loaded; names file, line and column.

    `problems` lists every bad cell; `line`, `column` and `message` are the first.
    """

    def __init__(self, path: str | Path, problems: list[Problem]):
        self.file = str(path)
        self.problems = problems
        first = problems[0]
        self.line, self.column, self.message = first.line, first.column, first.message
        super().__init__(
            "\n".join(f"{self.file} 第{p.line}行 {p.column} 列: {p.message}" for p in problems)
        )


@dataclass(frozen=True)
class DepartmentRow:
    line: int
    name: str
    kind: str
    aliases: tuple[str, ...]
    region_code: str
    sort_order: int


def read_department_file(path: str | Path) -> list[DepartmentRow]:
    """Parse and check a department CSV on its own (no database).

    Raises DepartmentFileError for a missing column, an empty name, an unknown kind,
    a bad region code or sort order, a name given twice, or an alias that is also
    another row's name or alias. Names and aliases are normalised (half-width, no
    spaces); an alias equal to its own row's name is ignored.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DepartmentFileError(
            path, [Problem(1, "-", f"不是 UTF-8 编码的文件({exc.reason})")]
        ) from exc
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise DepartmentFileError(path, [Problem(1, c, "缺少此列") for c in missing])
    reader.fieldnames = header

    problems: list[Problem] = []
    rows: list[DepartmentRow] = []
    name_lines: dict[str, int] = {}
    alias_lines: dict[str, int] = {}
    for raw in reader:
        line = reader.line_num
        cells = {k: (v or "").strip() for k, v in raw.items() if k is not None}
        if not any(cells.values()):
            continue
        name = deptnames.normalize(cells["name"])
        if not name:
            problems.append(Problem(line, "name", "名称为空"))
        elif len(name) > MAX_NAME_LENGTH:
            problems.append(Problem(line, "name", f"名称超过 {MAX_NAME_LENGTH} 个字"))
        elif name in name_lines:
            problems.append(
                Problem(line, "name", f"名称「{name}」重复(与第{name_lines[name]}行相同)")
            )
        else:
            name_lines[name] = line

        kind = _KIND_BY_TEXT.get(cells["kind"])
        if kind is None:
            allowed = "、".join(f"{k.value}({k.label})" for k in DepartmentKind)
            problems.append(Problem(line, "kind", f"未知类别「{cells['kind']}」,可用:{allowed}"))

        region_code = cells["region_code"]
        if region_code and not (_is_number(region_code) and len(region_code) in (6, 9, 12)):
            problems.append(
                Problem(line, "region_code", f"区划代码「{region_code}」应为 6、9 或 12 位数字")
            )

        sort_text = cells["sort_order"]
        sort_order = DEFAULT_SORT_ORDER
        if sort_text:
            if _is_number(sort_text):
                sort_order = int(sort_text)
            else:
                problems.append(Problem(line, "sort_order", f"排序「{sort_text}」不是非负整数"))

        aliases = []
        for alias in (deptnames.normalize(a) for a in cells["aliases"].split(ALIAS_SEPARATOR)):
            if not alias or alias == name or alias in aliases:
                continue
            if len(alias) > MAX_NAME_LENGTH:
                problems.append(
                    Problem(line, "aliases", f"别名「{alias}」超过 {MAX_NAME_LENGTH} 个字")
                )
                continue
            if alias in alias_lines:
                problems.append(
                    Problem(line, "aliases", f"别名「{alias}」已被第{alias_lines[alias]}行使用")
                )
                continue
            alias_lines[alias] = line
            aliases.append(alias)
        rows.append(DepartmentRow(line, name, kind or "", tuple(aliases), region_code, sort_order))

    for alias, line in alias_lines.items():
        if alias in name_lines:
            problems.append(
                Problem(line, "aliases", f"别名「{alias}」是第{name_lines[alias]}行部门的名称")
            )
    if problems:
        problems.sort(key=lambda p: (p.line, COLUMNS.index(p.column)))
        raise DepartmentFileError(path, problems)
    return rows


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _check_against_database(path: Path, rows: list[DepartmentRow]) -> None:
    """Aliases and names must not clash with another department already stored."""
    by_name = {d.name: d for d in Department.objects.select_related("merged_into")}
    aliases = {a.alias: a for a in DepartmentAlias.objects.select_related("department")}
    problems = []
    for row in rows:
        own = by_name.get(row.name)
        own_canonical = own.canonical().pk if own else None
        if own is None and row.name in aliases:
            holder = aliases[row.name].department.canonical()
            problems.append(
                Problem(row.line, "name", f"名称「{row.name}」已是部门「{holder}」的别名")
            )
        for alias in row.aliases:
            holder = None
            if alias in aliases:
                holder = aliases[alias].department.canonical()
            elif alias in by_name:
                holder = by_name[alias].canonical()
            # The alias may already sit on this row's department, or on the department
            # it was merged into: both are the same body.
            if holder is not None and holder.pk != own_canonical:
                problems.append(
                    Problem(row.line, "aliases", f"别名「{alias}」已被部门「{holder}」使用")
                )
    if problems:
        raise DepartmentFileError(path, problems)


# ---------------------------------------------------------------- loading


@dataclass
class LoadResult:
    """What one load did, and the near-duplicates still waiting for a decision."""

    file: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    aliases_created: int = 0
    suggestions_created: int = 0
    regions_missing: list[str] = field(default_factory=list)
    open_suggestions: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"部门:新增 {self.created},更新 {self.updated},未变 {self.unchanged};"
            f"新增别名 {self.aliases_created};新增疑似重复 {self.suggestions_created},"
            f"待决定 {len(self.open_suggestions)}"
        )


def load_departments(path: str | Path | None = None, *, user: Any = None) -> LoadResult:
    """Upsert the departments of a CSV file (the shipped list by default).

    Idempotent, in one transaction, after the whole file has been checked
    (DepartmentFileError otherwise). Kind and sort order follow the file; a region
    is linked only if it exists; aliases are added, never removed (merges and the
    admin add their own); merged departments stay merged. Then near-duplicates are
    suggested (never merged).
    """
    path = Path(path) if path else DEFAULT_FILE
    rows = read_department_file(path)
    result = LoadResult(file=str(path))
    with transaction.atomic(), audit.acting_as(user, None if user else "部门导入"):
        _check_against_database(path, rows)
        codes = {r.region_code for r in rows if r.region_code}
        regions = {r.code: r for r in Region.objects.filter(code__in=codes)}
        result.regions_missing = sorted(codes - set(regions))
        existing = {d.name: d for d in Department.objects.all()}
        aliases = set(DepartmentAlias.objects.values_list("alias", flat=True))
        for row in rows:
            dept = existing.get(row.name)
            region = regions.get(row.region_code)
            if dept is None:
                dept = Department.objects.create(
                    name=row.name, kind=row.kind, region=region, sort_order=row.sort_order
                )
                existing[row.name] = dept
                result.created += 1
            else:
                changed = []
                for attr, value in (("kind", row.kind), ("sort_order", row.sort_order)):
                    if getattr(dept, attr) != value:
                        setattr(dept, attr, value)
                        changed.append(attr)
                if region is not None and dept.region_id != region.pk:
                    dept.region = region
                    changed.append("region")
                if changed:
                    dept.save(update_fields=changed)
                    result.updated += 1
                else:
                    result.unchanged += 1
            holder = dept.canonical()
            for alias in row.aliases:
                if alias not in aliases and alias not in existing:
                    DepartmentAlias.objects.create(department=holder, alias=alias)
                    aliases.add(alias)
                    result.aliases_created += 1
        result.suggestions_created = len(refresh_suggestions())
    result.open_suggestions = [suggestion_text(s) for s in open_suggestions()]
    return result


def _name_rules() -> deptnames.NameRules:
    # The configured bureau's city ("广州市应急管理局" → "广州市") is a prefix to ignore.
    bureau = getattr(settings, "YINGJI_BUREAU_NAME", "")
    city = bureau[: bureau.index("市") + 1] if "市" in bureau else ""
    return deptnames.DEFAULT_RULES.with_prefixes(city) if city else deptnames.DEFAULT_RULES


def refresh_suggestions() -> list[MergeSuggestion]:
    """Raise a suggestion for every near-duplicate pair of current departments.

    Names and aliases of all unmerged departments are compared; a pair already
    suggested in either direction (open, merged or dismissed) is not raised again.
    The later department (by sort order, then name) is the one suggested for
    merging into the earlier one.
    """
    depts = list(
        Department.objects.filter(merged_into__isnull=True)
        .exclude(kind=DepartmentKind.STREET_OFFICE)  # differ by the street only
        .prefetch_related("aliases")
        .order_by("sort_order", "name", "pk")
    )
    rank = {d.pk: i for i, d in enumerate(depts)}
    by_pk = {d.pk: d for d in depts}
    entries = [(d.pk, d.name) for d in depts]
    entries += [(d.pk, a.alias) for d in depts for a in d.aliases.all()]
    known = {
        frozenset(p) for p in MergeSuggestion.objects.values_list("department_id", "candidate_id")
    }
    created = []
    for pk_a, name_a, pk_b, name_b, reason in deptnames.similar_keyed(entries, _name_rules()):
        if frozenset((pk_a, pk_b)) in known:
            continue
        (early, early_name), (late, late_name) = sorted(
            [(by_pk[pk_a], name_a), (by_pk[pk_b], name_b)], key=lambda t: rank[t[0].pk]
        )
        if early_name != early.name or late_name != late.name:
            reason = f"{late_name} / {early_name}:{reason}"
        created.append(
            MergeSuggestion.objects.create(department=late, candidate=early, reason=reason[:200])
        )
        known.add(frozenset((pk_a, pk_b)))
    return created


def open_suggestions() -> list[MergeSuggestion]:
    """Suggestions waiting for an administrator, in department order."""
    return list(
        MergeSuggestion.objects.filter(status=MergeSuggestion.Status.OPEN)
        .select_related("department", "candidate")
        .order_by("candidate__sort_order", "department__sort_order", "pk")
    )


def suggestion_text(suggestion: MergeSuggestion) -> str:
    """ "X 可能与 Y 相同(理由)"."""
    return f"{suggestion.department} 可能与 {suggestion.candidate} 相同({suggestion.reason})"


# ---------------------------------------------------------------- names


def resolve(name: str) -> Department | None:
    """The department a name or alias stands for, following merges; None if unknown."""
    clean = deptnames.normalize(name)
    if not clean:
        return None
    dept = Department.objects.filter(name=clean).first()
    if dept is None:
        alias = DepartmentAlias.objects.select_related("department").filter(alias=clean).first()
        dept = alias.department if alias else None
    if dept is None:
        # Stored by hand with full-width characters or spaces: compare normalised.
        canonical = {deptnames.normalize(k): v for k, v in known_names().items()}.get(clean)
        dept = Department.objects.filter(name=canonical).first() if canonical else None
    return dept.canonical() if dept else None


def known_names() -> dict[str, str]:
    """Every department name and alias → the name of the department it now stands for.

    A department's own name wins over an alias spelled the same way.
    """
    depts = {d.pk: d for d in Department.objects.all()}

    def canonical(dept: Department) -> str:
        seen = set()
        while dept.merged_into_id and dept.pk not in seen and dept.merged_into_id in depts:
            seen.add(dept.pk)
            dept = depts[dept.merged_into_id]
        return dept.name

    names = {d.name: canonical(d) for d in depts.values()}
    for alias, dept_id in DepartmentAlias.objects.values_list("alias", "department_id"):
        names.setdefault(alias, canonical(depts[dept_id]))
    return names


# ---------------------------------------------------------------- decisions


class MergeError(ValueError):
    """A merge or dismissal that cannot be done (already decided, blocked rows)."""


@dataclass
class MergeResult:
    """What a merge did: rows re-pointed and duplicate rows removed, per table."""

    source: Department
    target: Department
    moved: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        moved = ",".join(f"{k} {v}" for k, v in self.moved.items()) or "无"
        text = f"已将「{self.source}」合并至「{self.target}」;改指向:{moved}"
        if self.dropped:
            text += ";去除重复:" + ",".join(f"{k} {v}" for k, v in self.dropped.items())
        return text


def merge(suggestion: MergeSuggestion, user: Any, *, reverse: bool = False) -> MergeResult:
    """One-click merge: `suggestion.department` into `suggestion.candidate`
    (the other way round with `reverse`).

    In one transaction, audited as `user`: every foreign key to the merged
    department, in any installed model, is re-pointed (its aliases included); its
    name becomes an alias of the target; it gets `merged_into` and is deactivated;
    the suggestion is marked merged; other suggestions that named it are re-pointed
    or closed. Where re-pointing a row would break a unique constraint the target's
    row is kept and the duplicate deleted (a model may define
    `absorb_merged_duplicate(self, duplicate)` on the kept row to take over what
    matters, e.g. a lead role).
    """
    with transaction.atomic(), audit.acting_as(user):
        current = MergeSuggestion.objects.select_for_update().get(pk=suggestion.pk)
        if current.status != MergeSuggestion.Status.OPEN:
            raise MergeError(f"该建议已处理({current.get_status_display()})")
        source, target = current.department, current.candidate
        if reverse:
            source, target = target, source
        source, target = source.canonical(), target.canonical()
        result = MergeResult(source=source, target=target)
        now = timezone.now()
        if source.pk != target.pk:
            _absorb(source, target, result)
        _decide(current, MergeSuggestion.Status.MERGED, user, now)
        _tidy_suggestions(source, target, current, user, now)
    suggestion.refresh_from_db()
    return result


def dismiss(suggestion: MergeSuggestion, user: Any) -> MergeSuggestion:
    """ "不是同一部门": close the suggestion; it is never raised again."""
    with transaction.atomic(), audit.acting_as(user):
        current = MergeSuggestion.objects.select_for_update().get(pk=suggestion.pk)
        if current.status != MergeSuggestion.Status.OPEN:
            raise MergeError(f"该建议已处理({current.get_status_display()})")
        _decide(current, MergeSuggestion.Status.DISMISSED, user, timezone.now())
    suggestion.refresh_from_db()
    return suggestion


def _decide(suggestion: MergeSuggestion, status: str, user: Any, at) -> None:
    suggestion.status = status
    suggestion.decided_by = user if getattr(user, "pk", None) else None
    suggestion.decided_at = at
    suggestion.save(update_fields=["status", "decided_by", "decided_at"])


def department_foreign_keys() -> list[tuple[type[models.Model], models.ForeignKey]]:
    """Every (model, foreign key) that points at Department, in any installed app.

    Found through `Department._meta.related_objects`, so tables of modules added
    later are covered; auto-created many-to-many tables are reached through their
    relation. Suggestions are left out: a merge closes or re-points them itself.
    """
    found = []
    for rel in Department._meta.related_objects:
        if rel.related_model is MergeSuggestion:
            continue
        if rel.many_to_many:
            through = rel.through
            if through is not None and through._meta.auto_created:
                found += [
                    (through, f)
                    for f in through._meta.concrete_fields
                    if f.is_relation and f.related_model is Department
                ]
            # Explicit through models (workplan.Assignment) have their own FK relation.
            continue
        found.append((rel.related_model, rel.field))
    return found


def _absorb(source: Department, target: Department, result: MergeResult) -> None:
    for model, fk in department_foreign_keys():
        label = f"{model._meta.verbose_name}.{fk.verbose_name}"
        unique_sets = _unique_sets(model, fk)
        # Model orderings may join nullable relations, which FOR UPDATE refuses.
        rows = list(
            model._base_manager.filter(**{fk.attname: source.pk})
            .order_by("pk")
            .select_for_update(of=("self",))
        )
        for row in rows:
            if model is Department and row.pk == target.pk:
                continue
            duplicate_of = _duplicate(model, row, fk, target, unique_sets)
            if duplicate_of is not None:
                absorb = getattr(duplicate_of, "absorb_merged_duplicate", None)
                if callable(absorb):
                    absorb(row)
                try:
                    row.delete()
                except (models.ProtectedError, models.RestrictedError) as exc:
                    raise MergeError(f"{label}:重复记录「{row}」被其他数据引用,无法合并") from exc
                result.dropped[label] = result.dropped.get(label, 0) + 1
                continue
            setattr(row, fk.attname, target.pk)
            row.save(update_fields=[fk.name])
            result.moved[label] = result.moved.get(label, 0) + 1
    DepartmentAlias.objects.get_or_create(alias=source.name, defaults={"department": target})
    source.merged_into = target
    source.active = False
    source.save(update_fields=["merged_into", "active"])


def _unique_sets(
    model: type[models.Model], fk: models.Field
) -> list[tuple[tuple[str, ...], Q | None]]:
    """Unique field sets of `model` that include `fk`, with their condition if any."""
    sets: list[tuple[tuple[str, ...], Q | None]] = []
    if fk.unique:
        sets.append(((fk.name,), None))
    for fields in model._meta.unique_together:
        if fk.name in fields:
            sets.append((tuple(fields), None))
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.UniqueConstraint) and constraint.fields:
            if fk.name in constraint.fields or fk.attname in constraint.fields:
                sets.append((tuple(constraint.fields), constraint.condition))
    return sets


def _duplicate(model, row, fk, target: Department, unique_sets) -> models.Model | None:
    """The row already on `target` that `row` would collide with, if any."""
    for fields, condition in unique_sets:
        lookup = {}
        for name in fields:
            f = model._meta.get_field(name)
            value = target.pk if f is fk else getattr(row, f.attname)
            if value is None:
                break  # NULLs never collide in a unique constraint
            lookup[f.attname] = value
        else:
            others = model._base_manager.filter(**lookup).exclude(pk=row.pk)
            if condition is not None:
                if not model._base_manager.filter(pk=row.pk).filter(condition).exists():
                    continue
                others = others.filter(condition)
            match = others.first()
            if match is not None:
                return match
    return None


def _tidy_suggestions(
    source: Department, target: Department, decided: MergeSuggestion, user: Any, at
) -> None:
    """Other suggestions naming the merged department now concern the target."""
    others = (
        MergeSuggestion.objects.filter(Q(department=source) | Q(candidate=source))
        .exclude(pk=decided.pk)
        .order_by("pk")
        .select_for_update(of=("self",))
    )
    for other in others:
        if other.status != MergeSuggestion.Status.OPEN:
            continue  # decided ones stay as they were decided
        dept = target if other.department_id == source.pk else other.department
        cand = target if other.candidate_id == source.pk else other.candidate
        if dept.pk == cand.pk:
            _decide(other, MergeSuggestion.Status.MERGED, user, at)
        elif (
            MergeSuggestion.objects.filter(
                Q(department=dept, candidate=cand) | Q(department=cand, candidate=dept)
            )
            .exclude(pk=other.pk)
            .exists()
        ):
            other.delete()
        else:
            other.department, other.candidate = dept, cand
            other.save(update_fields=["department", "candidate"])


def street_office_name(street: Region) -> str:
    """「天河区石牌街道应急办」: district and street, so equal street names of two
    districts stay apart."""
    district = street.parent.name if street.parent_id else ""
    return f"{district}{street.name}应急办"


@dataclass
class StreetOfficeResult:
    created: int = 0
    existing: int = 0

    def summary(self) -> str:
        return f"镇街应急办:新增 {self.created},已有 {self.existing}"


def ensure_street_offices(*, user: Any = None) -> StreetOfficeResult:
    """One emergency office (kind street_office) per street/town region, created
    where none is bound to the street yet; idempotent. Plans address them as "the
    street offices of the affected area" (docs/response.md); names and mailboxes
    can then be edited in the admin. Street offices take no part in the
    near-duplicate suggestions (their names differ by the street only)."""
    result = StreetOfficeResult()
    bound = set(
        Department.objects.filter(kind=DepartmentKind.STREET_OFFICE).values_list(
            "region_id", flat=True
        )
    )
    taken = set(Department.objects.values_list("name", flat=True))
    with transaction.atomic(), audit.acting_as(user, None if user else "镇街应急办"):
        for street in (
            Region.objects.filter(level="street").select_related("parent").order_by("code")
        ):
            if street.code in bound:
                result.existing += 1
                continue
            name = street_office_name(street)
            if name in taken:  # a department of that name exists already: bind it
                Department.objects.filter(name=name).update(
                    kind=DepartmentKind.STREET_OFFICE, region=street
                )
                result.existing += 1
                continue
            Department.objects.create(
                name=name, kind=DepartmentKind.STREET_OFFICE, region=street, sort_order=900
            )
            taken.add(name)
            result.created += 1
    return result
