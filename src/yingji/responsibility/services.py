"""The 三防责任人 register: who may see and change which part, the import (strict
or partial, every problem by row and column, a transaction), changes of one
person, the annual update per district, the 一键通 progress, the public posting
(page, .xlsx, .docx), and the projection into the warning module's 三防责任人
group, which this register is the only source of.

Scope: the register is territorial. A district or street account sees and edits
the objects in its region and below; the departments that keep the register for
the whole city (seed item 19: 三防处 and 三防指挥中心) and leaders, supervisors and
administrators see and edit all of it; duty officers read all of it.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from yingji.core import audit, tables
from yingji.core.models import Region
from yingji.core.scope import Scope, scope_for
from yingji.responsibility import roster
from yingji.responsibility.models import DutyObject, RegisterRound, Responsible

# The departments that keep the register city-wide (seed item 19's owners).
KEEPERS = ("三防处", "三防指挥中心")
SUBSCRIBER_PREFIX = "sanfang:"
GROUP_KEY = "sanfang"


def today() -> dt.date:
    return timezone.localdate()


# The department that leads seed items 12–14 and 17 (duty lists, letters, review,
# assessment).
LEAD_DEPARTMENTS = ("综合处",)


def department_ids(names: tuple[str, ...]) -> set[int]:
    """The register's departments of these names (aliases and merges resolved)."""
    from yingji.core.departments import resolve

    return {d.pk for d in (resolve(name) for name in names) if d is not None}


def _keeper_ids() -> set[int]:
    return department_ids(KEEPERS)


def lead_ids() -> set[int]:
    return department_ids(LEAD_DEPARTMENTS)


REGION_READERS = frozenset({"district_staff", "leader", "supervisor", "admin", "duty_officer"})


def _menu_shows(user: Any, role: str | None, names: tuple[str, ...]) -> bool:
    """A menu entry of this app shows to territorial and city-wide roles and to the
    staff of the named departments (the pages check the full scope)."""
    if getattr(user, "is_superuser", False) or role in REGION_READERS:
        return True
    if role != "dept_staff":
        return False
    return getattr(getattr(user, "profile", None), "department_id", None) in department_ids(names)


def may_read(user: Any, role: str | None) -> bool:
    """The register's entry: its keepers (三防处, 三防指挥中心) among departments."""
    return _menu_shows(user, role, KEEPERS)


def may_lead(user: Any, role: str | None) -> bool:
    """The duty-list and letter entries: 综合处 among departments."""
    return _menu_shows(user, role, LEAD_DEPARTMENTS)


def register_scope(user: Any) -> tuple[Scope, bool]:
    """The user's scope for the register and whether they may change it."""
    scope = scope_for(user)
    if scope.department_ids & _keeper_ids():
        return Scope(sees_all=True, edits_all=True), True
    editing = scope.editing()
    may_edit = editing.edits_all or bool(editing.region_codes)
    return scope, may_edit


def _region_q(scope: Scope, field: str) -> Q:
    return scope.q(region_field=field)


def visible_objects(user: Any, *, editing: bool = False) -> QuerySet[DutyObject]:
    scope, may_edit = register_scope(user)
    if editing:
        if not may_edit:
            return DutyObject.objects.none()
        scope = scope if scope.edits_all else scope.editing()
    if not (scope.sees_all or scope.region_codes):
        return DutyObject.objects.none()
    return DutyObject.objects.filter(_region_q(scope, "region__code"))


def visible_people(user: Any, *, editing: bool = False) -> QuerySet[Responsible]:
    objects = visible_objects(user, editing=editing)
    return Responsible.objects.filter(obj__in=objects.values("pk"))


def editable_regions(user: Any) -> dict[str, str]:
    """Codes and names of the regions the user may write to → their codes."""
    scope, may_edit = register_scope(user)
    if not may_edit:
        return {}
    qs = Region.objects.all()
    if not scope.edits_all:
        qs = qs.filter(scope.editing().q(region_field="code"))
    out: dict[str, str] = {}
    names: dict[str, list[str]] = {}
    for code, name in qs.values_list("code", "name"):
        out[code] = code
        names.setdefault(name, []).append(code)
    for name, codes in names.items():
        if len(codes) == 1:  # a name is accepted only where it is unambiguous
            out[name] = codes[0]
    return out


# ------------------------------------------------------------------- import


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped_rows: int = 0
    problems: list[roster.Problem] = field(default_factory=list)
    written: bool = False

    def summary(self) -> str:
        text = f"新增 {self.created} 人、更新 {self.updated} 人、未变 {self.unchanged} 人"
        if self.skipped_rows:
            text += f";{self.skipped_rows} 行有问题未导入"
        return text


def read_rows(name: str, data: bytes) -> tuple[list[dict[str, object]], list[roster.Problem]]:
    """The uploaded register's rows by field key; header problems as row 1."""
    try:
        table = tables.read_table(name, data)
    except tables.TableError as exc:
        return [], [roster.Problem(0, "", str(exc))]
    if not table:
        return [], [roster.Problem(1, "", "文件为空")]
    columns, problems = roster.header_map(table[0])
    rows = [
        {key: (row[i] if i < len(row) else None) for i, key in columns.items()} for row in table[1:]
    ]
    return rows, [roster.Problem(1, "", p) for p in problems]


def import_register(user: Any, name: str, data: bytes, *, partial: bool = False) -> ImportResult:
    """Import a register file. Strict (the default): any problem and nothing is
    written. `partial`: the good rows are written, each bad row named and left
    out. A row replaces the person of its object and kind (an audited update)."""
    result = ImportResult()
    rows, header_problems = read_rows(name, data)
    if header_problems:
        result.problems = header_problems
        return result
    regions = editable_regions(user)
    if not regions:
        raise PermissionDenied("无权导入三防责任人")
    checked = roster.check_rows(rows, regions)
    result.problems = checked.problems
    if checked.problems and not partial:
        return result
    good = checked.good_rows()
    result.skipped_rows = len(checked.bad_rows)
    with transaction.atomic(), audit.acting_as(user):
        for row in good:
            obj, _ = DutyObject.objects.get_or_create(
                region_id=row.region_code,
                kind=row.object_kind,
                name=row.object_name,
                defaults={"code": row.object_code},
            )
            if row.object_code and obj.code != row.object_code:
                obj.code = row.object_code
                obj.save(update_fields=["code"])
            values = {
                "name": row.name,
                "post": row.post,
                "phone": row.phone,
                "public_phone": row.public_phone,
                "term_start": row.term_start,
                "term_end": row.term_end,
            }
            if row.app_installed_on:
                values["app_installed_on"] = row.app_installed_on
            person = Responsible.objects.filter(obj=obj, role=row.role).first()
            if person is None:
                Responsible.objects.create(obj=obj, role=row.role, **values)
                result.created += 1
            elif any(getattr(person, k) != v for k, v in values.items()):
                if person.phone != row.phone or person.name != row.name:
                    # A new person: their 一键通 state is theirs, not the predecessor's.
                    person.app_installed_on = row.app_installed_on
                for k, v in values.items():
                    setattr(person, k, v)
                person.save()
                result.updated += 1
            else:
                result.unchanged += 1
        sync_subscribers()
    result.written = True
    return result


# --------------------------------------------------------- one person at a time


EDITABLE = ("name", "post", "phone", "public_phone", "term_start", "term_end", "app_installed_on")


def save_person(user: Any, person: Responsible, values: dict[str, Any]) -> Responsible:
    """Change one person's record (or fill a new one) after the same checks as
    the import; refused outside the user's editable part of the register."""
    if not visible_objects(user, editing=True).filter(pk=person.obj_id).exists():
        raise PermissionDenied("无权修改该对象的三防责任人")
    errors: dict[str, str] = {}
    phone = roster.normal_phone(values.get("phone", person.phone))
    if p := roster.phone_problem(phone):
        errors["phone"] = p
    public_phone = roster.normal_phone(values.get("public_phone", person.public_phone))
    if public_phone and (p := roster.phone_problem(public_phone)):
        errors["public_phone"] = p
    for key in ("name", "post"):
        if not str(values.get(key, getattr(person, key)) or "").strip():
            errors[key] = "不能为空"
    dates = {}
    for key in ("term_start", "term_end", "app_installed_on"):
        try:
            dates[key] = roster.parse_date(values.get(key, getattr(person, key)))
        except roster.RosterError as exc:
            errors[key] = str(exc)
    if errors:
        raise ValidationError(errors)
    person.name = str(values.get("name", person.name)).strip()
    person.post = str(values.get("post", person.post)).strip()
    person.phone, person.public_phone = phone, public_phone
    for key, value in dates.items():
        setattr(person, key, value)
    with transaction.atomic(), audit.acting_as(user):
        person.save()
        sync_subscribers()
    return person


def remove_person(user: Any, person: Responsible) -> None:
    if not visible_objects(user, editing=True).filter(pk=person.obj_id).exists():
        raise PermissionDenied("无权修改该对象的三防责任人")
    with transaction.atomic(), audit.acting_as(user):
        person.delete()
        sync_subscribers()


# ------------------------------------------------------- the warning group feed


def sync_subscribers() -> dict[str, int]:
    """Project the register into the warning module's 三防责任人 group: one
    subscriber per person (external id "sanfang:<id>", SMS to the person's mobile,
    home region the object's region), removed when the person is. The register is
    the group's only source: the subscriber import refuses this group, and a
    subscriber of it that no person backs is taken out of it."""
    from yingji.alerts.models import Subscriber, SubscriberGroup
    from yingji.alerts.services import ensure_groups

    ensure_groups()
    group = SubscriberGroup.objects.get(key=GROUP_KEY)
    people = {
        f"{SUBSCRIBER_PREFIX}{p['pk']}": p
        for p in Responsible.objects.values("pk", "name", "phone", "obj__region_id")
    }
    existing = {
        s.external_id: s
        for s in Subscriber.objects.filter(external_id__startswith=SUBSCRIBER_PREFIX)
    }
    created = updated = 0
    for ext, p in people.items():
        s = existing.get(ext)
        if s is None:
            s = Subscriber.objects.create(
                external_id=ext,
                name=p["name"],
                phone=p["phone"],
                channels=["sms"],
                home_region_id=p["obj__region_id"],
            )
            s.groups.add(group)
            created += 1
        elif (s.name, s.phone, s.home_region_id) != (p["name"], p["phone"], p["obj__region_id"]):
            s.name, s.phone, s.home_region_id = p["name"], p["phone"], p["obj__region_id"]
            s.save(update_fields=["name", "phone", "home_region", "updated_at"])
            updated += 1
    gone = [ext for ext in existing if ext not in people]
    removed = Subscriber.objects.filter(external_id__in=gone).delete()[0] if gone else 0
    # Anyone else in the group was put there by hand or by an old import.
    strays = group.subscribers.exclude(external_id__startswith=SUBSCRIBER_PREFIX)
    stray_count = strays.count()
    if stray_count:
        group.subscribers.remove(*strays)
    return {"created": created, "updated": updated, "removed": removed, "strays": stray_count}


# ------------------------------------------------------------ annual update


def open_round(
    user: Any, year: int, district: Region, update_deadline: dt.date, app_deadline: dt.date
) -> RegisterRound:
    scope, may_edit = register_scope(user)
    if not (may_edit and scope.edits_all):
        raise PermissionDenied("年度更新由三防处布置")
    if district.level != "district":
        raise ValidationError({"district": "年度更新按区布置"})
    with audit.acting_as(user):
        record, _ = RegisterRound.objects.update_or_create(
            year=year,
            district=district,
            defaults={"update_deadline": update_deadline, "app_deadline": app_deadline},
        )
    return record


def confirm_round(user: Any, record: RegisterRound) -> RegisterRound:
    """The district confirms its register is up to date for the year."""
    scope, may_edit = register_scope(user)
    if not (may_edit and (scope.edits_all or scope.editing().covers_region(record.district_id))):
        raise PermissionDenied("无权确认该区的年度更新")
    with audit.acting_as(user):
        record.confirmed_at = timezone.now()
        record.confirmed_by = user
        record.save(update_fields=["confirmed_at", "confirmed_by"])
    return record


def app_deadlines(year: int) -> dict[str, dt.date]:
    return dict(RegisterRound.objects.filter(year=year).values_list("district_id", "app_deadline"))


# ------------------------------------------------------------------ progress


def progress_table(user: Any, *, year: int | None = None, by: str = "district", on=None):
    """The 一键通 installation progress of the people the user sees, per district
    (or per street), lowest share first; and the total line."""
    on = on or today()
    year = year or on.year
    people = list(visible_people(user).values_list("obj__region_id", "app_installed_on"))
    codes = {code for code, _ in people}
    regions = {
        r["code"]: r
        for r in Region.objects.filter(code__in=_ancestors(codes)).values(
            "code", "name", "level", "parent_id"
        )
    }
    area_of: dict[str, tuple[str, str]] = {}
    for code in codes:
        area = _area(code, regions, by)
        if area:
            area_of[code] = (area["code"], area["name"])
    lines = roster.progress(people, area_of, app_deadlines(year), on)
    total = roster.ProgressLine("", "合计")
    for line in lines:
        total.installed += line.installed
        total.pending += line.pending
        total.overdue += line.overdue
    return lines, total


def _ancestors(codes: set[str]) -> set[str]:
    out = set()
    for code in codes:
        out.add(code)
        for n in (6, 9):
            if len(code) > n:
                out.add(code[:n])
    return out


def _area(code: str, regions: dict[str, dict], by: str) -> dict | None:
    """The area a person is counted in: their district (or, by street, their
    street); people of a district or the city itself count on a line of their own."""
    want = 9 if by == "street" else 6
    return regions.get(code[:want] if len(code) > want else code)


# ------------------------------------------------------------------ posting


def posting(district_code: str) -> list[dict[str, Any]]:
    """The public list of one district (its own objects and everything below):
    what, where, which kind of responsibility, who, post, the public phone (or a
    masked mobile). Mobile numbers are personal information: only the masked form
    is ever public."""
    people = (
        Responsible.objects.filter(obj__region__code__startswith=district_code)
        .select_related("obj", "obj__region")
        .order_by("obj__region_id", "obj__kind", "obj__name", "role")
    )
    return [
        {
            "region": p.obj.region.name,
            "object": p.obj.name,
            "kind": p.obj.get_kind_display(),
            "role": p.get_role_display(),
            "name": p.name,
            "post": p.post,
            "phone": p.public_phone or roster.mask_phone(p.phone),
        }
        for p in people
    ]


POSTING_HEADERS = [
    "所在区划",
    "责任对象",
    "对象类型",
    "责任人类别",
    "姓名",
    "单位及职务",
    "联系电话",
]
POSTING_KEYS = ["region", "object", "kind", "role", "name", "post", "phone"]


def posting_xlsx(district: Region) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "三防责任人"
    sheet.append([f"{district.name}三防责任人名单(公示)"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(POSTING_HEADERS)
    for row in posting(district.code):
        sheet.append([row[k] for k in POSTING_KEYS])
    for column, width in zip("ABCDEFG", (14, 24, 14, 12, 10, 30, 16), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def posting_docx(district: Region) -> bytes:
    import docx

    document = docx.Document()
    document.add_heading(f"{district.name}三防责任人名单", level=1)
    document.add_paragraph(f"公示日期:{today():%Y年%m月%d日}")
    rows = posting(district.code)
    table = document.add_table(rows=1, cols=len(POSTING_HEADERS))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, POSTING_HEADERS, strict=True):
        cell.text = text
    for row in rows:
        cells = table.add_row().cells
        for cell, key in zip(cells, POSTING_KEYS, strict=True):
            cell.text = str(row[key])
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def district_counts() -> list[dict[str, Any]]:
    """Per district: objects and people in the register (the public index)."""
    districts = list(Region.objects.filter(level="district").values("code", "name"))
    counts = {}
    for code, n in (
        Responsible.objects.values_list("obj__region_id")
        .annotate(n=Count("pk"))
        .values_list("obj__region_id", "n")
    ):
        counts[code[:6]] = counts.get(code[:6], 0) + n
    return [{**d, "people": counts.get(d["code"], 0)} for d in districts]


def gaps(user: Any, limit: int | None = None) -> list[tuple[DutyObject, list[str]]]:
    """The objects the user sees that lack a kind of responsible person (at most
    `limit`). The database picks them out — per object kind, fewer of the required
    kinds than needed — so the register page does not read the whole register."""
    out: list[tuple[DutyObject, list[str]]] = []
    visible = visible_objects(user)
    for kind in roster.OBJECT_KINDS:
        required = roster.required_roles(kind)
        short = (
            visible.filter(kind=kind)
            .annotate(have=Count("people", filter=Q(people__role__in=required)))
            .filter(have__lt=len(required))
            .select_related("region")
            .prefetch_related("people")
            .order_by("region_id", "name")
        )
        if limit is not None:
            short = short[: max(0, limit - len(out))]
        for obj in short:
            out.append((obj, roster.missing_roles(obj.kind, [p.role for p in obj.people.all()])))
        if limit is not None and len(out) >= limit:
            break
    return out
