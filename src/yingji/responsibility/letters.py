"""Responsibility letters (seed 13): the year's template with its indicators, a
letter per district and city department, issued, signed (with the signed scan)
or withdrawn through one state table (duties.LETTERS); the indicators are what
the annual assessment then tracks.

综合处 (the lead) and the city-wide roles draft and move letters; a department
sees its own letter and may upload its signed scan."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet

from yingji.core import audit, media
from yingji.core.models import Department, DepartmentKind
from yingji.core.scope import scope_for
from yingji.responsibility import duties
from yingji.responsibility.leaders import is_lead
from yingji.responsibility.models import Letter, LetterTemplate

PARTY_KINDS = (DepartmentKind.DISTRICT_GOV, DepartmentKind.MUNICIPAL)


def visible_letters(user: Any) -> QuerySet[Letter]:
    scope = scope_for(user)
    if is_lead(user) or scope.sees_all:
        return Letter.objects.all()
    return Letter.objects.filter(party_id__in=sorted(scope.department_ids))


def save_template(
    user: Any, year: int, title: str, indicators: list[dict], body: str = ""
) -> LetterTemplate:
    if not is_lead(user):
        raise PermissionDenied("责任书模板由综合处起草")
    if problems := duties.indicator_problems(indicators):
        raise ValidationError({"indicators": problems})
    if not (title or "").strip():
        raise ValidationError({"title": "标题不能为空"})
    with audit.acting_as(user):
        template, _ = LetterTemplate.objects.update_or_create(
            year=year, defaults={"title": title.strip(), "indicators": indicators, "body": body}
        )
    return template


def draft_letters(user: Any, template: LetterTemplate) -> int:
    """A letter for every district government and city department that has none
    for the year yet (indicators copied from the template). Returns how many."""
    if not is_lead(user):
        raise PermissionDenied("责任书由综合处起草")
    parties = Department.objects.filter(kind__in=PARTY_KINDS, merged_into__isnull=True).exclude(
        pk__in=template.letters.values("party_id")
    )
    with transaction.atomic(), audit.acting_as(user):
        created = [
            Letter.objects.create(template=template, party=party, indicators=template.indicators)
            for party in parties
        ]
    return len(created)


def move(
    user: Any,
    letter: Letter,
    action: str,
    *,
    signed_on: dt.date | None = None,
    signed_by: str = "",
    scan: Any = None,
) -> Letter:
    """Issue, sign, send back or withdraw a letter. Signing needs the date, the
    signatory and the signed scan (checked like every upload)."""
    try:
        step = duties.LETTERS.transition(letter.state, action)
    except duties.LetterError as exc:
        raise ValidationError({"action": str(exc)}) from exc
    party_member = letter.party_id in scope_for(user).department_ids
    if not is_lead(user) and not (action == "sign" and party_member):
        raise PermissionDenied("无权办理该责任书")
    if action == "sign":
        errors = {}
        if signed_on is None:
            errors["signed_on"] = "请填写签订日期"
        if not (signed_by or "").strip():
            errors["signed_by"] = "请填写签订人"
        if scan is None and not letter.scan:
            errors["scan"] = "请上传签字盖章的扫描件"
        if errors:
            raise ValidationError(errors)
        if scan is not None:
            media.check_upload(scan, "attachment", field="scan")
            letter.scan = scan
        letter.signed_on, letter.signed_by = signed_on, signed_by.strip()[:64]
    with audit.acting_as(user):
        letter.state = step.target
        letter.save()
    return letter


def may_read_scan(user: Any, name: str) -> bool:
    return visible_letters(user).filter(scan=name).exists()
