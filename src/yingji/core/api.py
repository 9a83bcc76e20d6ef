"""Core API (/api/v1/core/): departments and their near-duplicates, the current
user and their scope, and the audit history of one object. Session auth."""

import datetime as dt
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from ninja import Router, Schema
from ninja.errors import HttpError

from yingji.core import departments, scope
from yingji.core.models import AuditEntry, Department, MergeSuggestion, Profile

router = Router(tags=["core"])


class DepartmentOut(Schema):
    id: int
    name: str
    kind: str
    aliases: list[str]


class DepartmentRef(Schema):
    id: int
    name: str


class SuggestionOut(Schema):
    id: int
    department: DepartmentRef
    candidate: DepartmentRef
    reason: str
    status: str
    text: str
    decided_by: str | None = None
    decided_at: dt.datetime | None = None


class MergeOut(Schema):
    suggestion: SuggestionOut
    merged: DepartmentRef
    target: DepartmentRef
    summary: str


class ScopeOut(Schema):
    sees_all: bool
    edits_all: bool
    department_ids: list[int]
    region_codes: list[str]


class MeOut(Schema):
    username: str
    full_name: str
    role: str | None
    role_label: str | None
    department: DepartmentRef | None
    region: str | None
    is_administrator: bool
    scope: ScopeOut


class AuditEntryOut(Schema):
    at: dt.datetime
    actor: str
    action: str
    changed_fields: list[str]
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def _ref(dept: Department | None) -> DepartmentRef | None:
    return DepartmentRef(id=dept.pk, name=dept.name) if dept else None


def _suggestion_out(s: MergeSuggestion) -> SuggestionOut:
    return SuggestionOut(
        id=s.pk,
        department=_ref(s.department),
        candidate=_ref(s.candidate),
        reason=s.reason,
        status=s.status,
        text=departments.suggestion_text(s),
        decided_by=s.decided_by.get_username() if s.decided_by else None,
        decided_at=s.decided_at,
    )


def _open_suggestion(request, suggestion_id: int) -> MergeSuggestion:
    if not scope.is_administrator(request.user):
        raise HttpError(403, "只有管理员可以决定疑似重复部门")
    suggestion = (
        MergeSuggestion.objects.select_related("department", "candidate")
        .filter(pk=suggestion_id)
        .first()
    )
    if suggestion is None:
        raise HttpError(404, "没有这条疑似重复记录")
    return suggestion


@router.get("/departments", response=list[DepartmentOut])
def list_departments(request):
    return [
        DepartmentOut(id=d.id, name=d.name, kind=d.kind, aliases=[a.alias for a in d.aliases.all()])
        for d in Department.objects.filter(merged_into__isnull=True).prefetch_related("aliases")
    ]


@router.get("/departments/suggestions", response=list[SuggestionOut])
def list_suggestions(request, status: str = "open"):
    """Near-duplicate departments; `status` open (default), merged, dismissed or all."""
    qs = MergeSuggestion.objects.select_related("department", "candidate", "decided_by")
    if status != "all":
        qs = qs.filter(status=status)
    return [
        _suggestion_out(s)
        for s in qs.order_by("candidate__sort_order", "department__sort_order", "pk")
    ]


@router.post("/departments/suggestions/{suggestion_id}/merge", response=MergeOut)
def merge_suggestion(request, suggestion_id: int, reverse: bool = False):
    """合并(一键): the suggested department into its candidate (or the reverse). Administrators only."""
    suggestion = _open_suggestion(request, suggestion_id)
    try:
        result = departments.merge(suggestion, request.user, reverse=reverse)
    except departments.MergeError as exc:
        raise HttpError(409, str(exc)) from exc
    return MergeOut(
        suggestion=_suggestion_out(suggestion),
        merged=_ref(result.source),
        target=_ref(result.target),
        summary=result.summary(),
    )


@router.post("/departments/suggestions/{suggestion_id}/dismiss", response=SuggestionOut)
def dismiss_suggestion(request, suggestion_id: int):
    """不是同一部门. Administrators only."""
    suggestion = _open_suggestion(request, suggestion_id)
    try:
        departments.dismiss(suggestion, request.user)
    except departments.MergeError as exc:
        raise HttpError(409, str(exc)) from exc
    return _suggestion_out(suggestion)


@router.get("/me", response=MeOut)
def me(request):
    """The logged-in user, their role, department and scope."""
    user = request.user
    profile = Profile.objects.select_related("department", "region").filter(user=user).first()
    return MeOut(
        username=user.get_username(),
        full_name=(profile.full_name if profile else "") or user.get_full_name(),
        role=profile.role if profile else None,
        role_label=profile.get_role_display() if profile else None,
        department=_ref(profile.department) if profile else None,
        region=profile.region_id if profile else None,
        is_administrator=scope.is_administrator(user),
        scope=ScopeOut(**scope.scope_for(user).summary()),
    )


def _exists(model_cls, pk: str) -> bool:
    try:
        return model_cls._default_manager.filter(pk=pk).exists()
    except (ValueError, ValidationError):  # "abc" as an integer key
        return False


@router.get("/audit/{app_label}/{model}/{pk}", response=list[AuditEntryOut])
def object_audit(request, app_label: str, model: str, pk: str):
    """Audit history of one object, newest first.

    Users who see everything may read any object's history; everyone else only
    that of departments (until modules define finer object scopes).
    """
    try:
        model_cls = apps.get_model(app_label, model)
    except LookupError as exc:
        raise HttpError(404, "没有这种对象") from exc
    if not (scope.scope_for(request.user).sees_all or model_cls is Department):
        raise HttpError(403, "无权查看该对象的修改记录")
    entries = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(model_cls),
        object_pk=str(pk),
    ).order_by("-at", "-id")
    if not entries.exists() and not _exists(model_cls, pk):
        raise HttpError(404, "没有这个对象")
    return [
        AuditEntryOut(
            at=e.at,
            actor=e.actor_label,
            action=e.action,
            changed_fields=e.changed_fields or [],
            before=e.before,
            after=e.after,
        )
        for e in entries
    ]
