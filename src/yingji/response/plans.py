"""Digital plans: build a plan from its structured form (the shipped example,
an edited .docx import draft, the API), list proposals, remind reviews.

The structured form is a dict: title, kind, owner, admin_level, hazard, version,
issued_on, review_due, summary, triggers [{source, hazard, min_level,
response_level}], groups [{name, lead, members, duties}], cards [{level,
department, title, text, ack, limit}], resources_needed, contacts. Department
names are resolved through the core register (names and aliases).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from yingji.core import outbox
from yingji.core.models import Department, DepartmentAlias
from yingji.response import addressees, levels, triggers
from yingji.response.models import CardTemplate, EmergencyPlan, PlanGroup, PlanTrigger

DATA = Path(__file__).resolve().parent / "data"
RED_RAINSTORM = DATA / "red_rainstorm_plan.json"


def find_department(name: str, *, create: bool = False) -> Department | None:
    """A department by name or alias (merged ones resolve to their successor)."""
    dept = Department.objects.filter(name=name).first()
    if dept is None:
        alias = DepartmentAlias.objects.filter(alias=name).select_related("department").first()
        dept = alias.department if alias else None
    if dept is None and create:
        dept = Department.objects.create(
            name=name, kind="municipal" if name.startswith("市") else "other"
        )
    return dept.canonical() if dept else None


def check_structure(data: dict[str, Any]) -> list[str]:
    """Every problem of a plan structure, in Chinese (empty when it can be saved)."""
    problems = []
    if not str(data.get("title", "")).strip():
        problems.append("缺少预案名称")
    if data.get("kind", "special") not in EmergencyPlan.Kind.values:
        problems.append(f"预案类别无效:{data.get('kind')}")
    for i, t in enumerate(data.get("triggers", []), start=1):
        if t.get("source") not in triggers.SOURCES:
            problems.append(f"启动条件第 {i} 条:来源无效 {t.get('source')!r}")
            continue
        try:
            triggers.level_rank(t["source"], t.get("min_level", ""))
            levels.rank(t.get("response_level", ""))
        except ValueError as exc:
            problems.append(f"启动条件第 {i} 条:{exc}")
    for i, c in enumerate(data.get("cards", []), start=1):
        if c.get("level") not in levels.LEVELS:
            problems.append(f"行动卡第 {i} 条:响应级别无效 {c.get('level')!r}")
        if not str(c.get("title", "")).strip():
            problems.append(f"行动卡第 {i} 条:缺少任务")
        if (
            not str(c.get("department", "")).strip()
            and c.get("to", addressees.DEPARTMENT) == addressees.DEPARTMENT
        ):
            problems.append(f"行动卡第 {i} 条:缺少责任单位")
        for key in ("ack", "limit"):
            if key in c and (not isinstance(c[key], int) or c[key] <= 0):
                problems.append(f"行动卡第 {i} 条:时限应为正整数分钟")
    return problems


@transaction.atomic
def save_structure(
    data: dict[str, Any],
    *,
    status: str = EmergencyPlan.Status.DRAFT,
    plan: EmergencyPlan | None = None,
    create_departments: bool = False,
) -> EmergencyPlan:
    """Create (or replace the content of) a plan from its structure, all or nothing."""
    problems = check_structure(data)
    missing = sorted(
        {
            name
            for name in _department_names(data)
            if find_department(name, create=create_departments) is None
        }
    )
    problems += [f"未知的单位:{name}(请先在部门名录中登记或添加别名)" for name in missing]
    if problems:
        raise ValidationError(problems)
    fields = {
        "title": data["title"].strip(),
        "kind": data.get("kind", "special"),
        "owner": find_department(data["owner"]) if data.get("owner") else None,
        "admin_level": data.get("admin_level", "市级"),
        "hazard": data.get("hazard", ""),
        "version": data.get("version", "1.0"),
        "status": status,
        "issued_on": _date(data.get("issued_on")),
        "review_due": _date(data.get("review_due")),
        "summary": data.get("summary", ""),
        "resources_needed": data.get("resources_needed", []),
        "contacts": data.get("contacts", []),
        "source_file": data.get("source_file", ""),
    }
    if plan is None:
        plan = EmergencyPlan.objects.create(**fields)
    else:
        for k, v in fields.items():
            setattr(plan, k, v)
        plan.save()
        plan.triggers.all().delete()
        plan.groups.all().delete()
        plan.card_templates.all().delete()
    PlanTrigger.objects.bulk_create(
        [
            PlanTrigger(
                plan=plan,
                source=t["source"],
                hazard=t["hazard"],
                min_level=t["min_level"],
                response_level=t["response_level"],
            )
            for t in data.get("triggers", [])
        ]
    )
    for order, g in enumerate(data.get("groups", [])):
        group = PlanGroup.objects.create(
            plan=plan,
            name=g["name"],
            duties=g.get("duties", ""),
            lead=find_department(g["lead"]) if g.get("lead") else None,
            order=order,
        )
        group.members.set(
            [
                find_department(m)
                for m in g.get("members", [])
                if addressees.addressee_of(m) == addressees.DEPARTMENT
            ]
        )
        area = sorted(
            {addressees.addressee_of(m) for m in g.get("members", [])} - {addressees.DEPARTMENT}
        )
        if area:
            group.area_members = area
            group.save(update_fields=["area_members"])
    CardTemplate.objects.bulk_create(
        [
            CardTemplate(
                plan=plan,
                response_level=c["level"],
                addressee=_card_addressee(c),
                department=(
                    find_department(c["department"])
                    if _card_addressee(c) == addressees.DEPARTMENT
                    else None
                ),
                title=c["title"],
                text=c.get("text", ""),
                ack_minutes=c.get("ack", 15),
                limit_minutes=c.get("limit", 60),
                order=order,
            )
            for order, c in enumerate(data.get("cards", []))
        ]
    )
    return plan


def _card_addressee(card: dict[str, Any]) -> str:
    """A card's addressee: its `to` key, or a marker name in `department`
    ("受影响区域镇街", "各镇街", "受影响区域各区" …)."""
    to = card.get("to") or addressees.DEPARTMENT
    return (
        to if to != addressees.DEPARTMENT else addressees.addressee_of(card.get("department", ""))
    )


def _department_names(data: dict[str, Any]) -> set[str]:
    names = {
        c["department"]
        for c in data.get("cards", [])
        if c.get("department") and _card_addressee(c) == addressees.DEPARTMENT
    }
    for g in data.get("groups", []):
        names |= set(g.get("members", [])) | ({g["lead"]} if g.get("lead") else set())
    if data.get("owner"):
        names.add(data["owner"])
    return {n for n in names if addressees.addressee_of(n) == addressees.DEPARTMENT}


def _date(value: Any) -> dt.date | None:
    if not value:
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def structure_of(plan: EmergencyPlan) -> dict[str, Any]:
    """The structured form of a saved plan (round-trips through save_structure)."""
    return {
        "title": plan.title,
        "kind": plan.kind,
        "owner": plan.owner.name if plan.owner else "",
        "admin_level": plan.admin_level,
        "hazard": plan.hazard,
        "version": plan.version,
        "issued_on": plan.issued_on.isoformat() if plan.issued_on else None,
        "review_due": plan.review_due.isoformat() if plan.review_due else None,
        "summary": plan.summary,
        "triggers": [
            {
                "source": t.source,
                "hazard": t.hazard,
                "min_level": t.min_level,
                "response_level": t.response_level,
            }
            for t in plan.triggers.all()
        ],
        "groups": [
            {
                "name": g.name,
                "lead": g.lead.name if g.lead else "",
                "duties": g.duties,
                "members": [m.name for m in g.members.all()]
                + [addressees.LABELS[a] for a in g.area_members],
            }
            for g in plan.groups.all()
        ],
        "cards": [
            {
                "level": c.response_level,
                "department": c.addressed_to,
                "title": c.title,
                "text": c.text,
                "ack": c.ack_minutes,
                "limit": c.limit_minutes,
            }
            for c in plan.card_templates.select_related("department")
        ],
        "resources_needed": plan.resources_needed,
        "contacts": plan.contacts,
    }


def load_red_rainstorm(*, create_departments: bool = True) -> tuple[EmergencyPlan, bool]:
    """The shipped red rainstorm plan with the five stops, in force (once)."""
    data = json.loads(RED_RAINSTORM.read_text(encoding="utf-8"))
    existing = EmergencyPlan.objects.filter(title=data["title"]).first()
    if existing is not None:
        return existing, False
    return save_structure(
        data, status=EmergencyPlan.Status.ACTIVE, create_departments=create_departments
    ), True


def remind_reviews(today: dt.date | None = None, ahead_days: int = 30) -> int:
    """Remind plan owners of reviews due within `ahead_days` or overdue (once per plan and due date)."""
    today = today or timezone.localdate()
    n = 0
    for plan in EmergencyPlan.objects.filter(
        status=EmergencyPlan.Status.ACTIVE,
        review_due__isnull=False,
        owner__isnull=False,
        review_due__lte=today + dt.timedelta(days=ahead_days),
    ).select_related("owner"):
        late = plan.review_due < today
        n += len(
            outbox.notify_department(
                plan.owner,
                subject=f"【预案{'评估逾期' if late else '评估提醒'}】{plan.title}",
                body=f"{plan.owner}:《{plan.title}》({plan.version})应于 {plan.review_due:%Y-%m-%d} "
                f"前完成评估修订{',现已逾期' if late else ''}。",
                dedupe_key=f"response:plan-review:{plan.pk}:{plan.review_due.isoformat()}",
                source=plan,
            )
        )
    return n


@transaction.atomic
def new_version(plan: EmergencyPlan, version: str) -> EmergencyPlan:
    """A draft copy of `plan` as its next version (修订), linked to it."""
    if EmergencyPlan.objects.filter(title=plan.title, version=version).exists():
        raise ValidationError(f"《{plan.title}》已有版本 {version}")
    data = structure_of(plan)
    data["version"] = version
    draft = save_structure(data, status=EmergencyPlan.Status.DRAFT)
    draft.previous_version = plan
    draft.save(update_fields=["previous_version"])
    draft.related.set(plan.related.all())
    return draft


@transaction.atomic
def publish(plan: EmergencyPlan, *, issued_on: dt.date | None = None) -> EmergencyPlan:
    """Put a draft in force; the version it revises is retired (one version in force)."""
    if plan.status != EmergencyPlan.Status.DRAFT:
        raise ValidationError("只有草稿可以发布")
    if not plan.card_templates.exists():
        raise ValidationError("预案没有任何行动卡,不能发布")
    plan.status = EmergencyPlan.Status.ACTIVE
    plan.issued_on = issued_on or timezone.localdate()
    plan.save(update_fields=["status", "issued_on"])
    previous = plan.previous_version
    if previous is not None and previous.status == EmergencyPlan.Status.ACTIVE:
        previous.status = EmergencyPlan.Status.RETIRED
        previous.save(update_fields=["status"])
    return plan
