"""Role scoping, one rule for every module: what a user sees and what they may edit.

- leaders (局领导), supervisors (督查), administrators and superusers see and edit
  everything;
- duty officers (值班员) see everything but edit only their own department's work;
- department staff see and edit their own department;
- district staff see their region and everything below it (by code prefix: a
  district 440106 covers streets 440106xxx and communities 440106xxxxxx) and the
  district government department of that region, and edit those departments;
- anyone else (no profile, anonymous) sees nothing.

`scope_from()` is the pure rule; `scope_for(user)` reads the profile.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q

from yingji.core import regioncodes

SEES_ALL_ROLES = frozenset({"leader", "supervisor", "admin"})
READ_ALL_ROLES = frozenset({"duty_officer"})


@dataclass(frozen=True)
class Scope:
    """What one user may see (`sees_all` or the listed departments and regions)
    and edit (`edits_all` or the listed departments)."""

    sees_all: bool = False
    department_ids: frozenset[int] = frozenset()
    region_codes: frozenset[str] = frozenset()
    edits_all: bool = False

    def covers_department(self, department_id: int | None) -> bool:
        return self.sees_all or (department_id is not None and department_id in self.department_ids)

    def covers_region(self, code: str | None) -> bool:
        """True when `code` is one of the scope's regions or lies below one."""
        if self.sees_all:
            return True
        return regioncodes.within_any(code, self.region_codes)

    def can_edit_department(self, department_id: int | None) -> bool:
        return self.edits_all or (
            department_id is not None and department_id in self.department_ids
        )

    def q(self, department_field: str | None = None, region_field: str | None = None) -> Q:
        """A filter for querysets: rows of the scope's departments or regions.

        `region_field` names a region code (e.g. "region" or "region__code"
        for a foreign key to Region); Q() when the user sees everything.
        """
        if self.sees_all:
            return Q()
        # Matches nothing when the scope is empty (pk is never NULL).
        condition = Q(pk__isnull=True)
        if department_field:
            condition |= Q(**{f"{department_field}__in": sorted(self.department_ids)})
        if region_field:
            for code in sorted(self.region_codes):
                condition |= Q(**{f"{region_field}__startswith": regioncodes.prefix(code)})
        return condition

    def editing(self) -> Scope:
        """The part of the scope the user may change: a duty officer sees
        everything but edits only their own department's records; everyone else
        edits what they see. `visible_X(user, scope.editing())` is the
        editable queryset of the same rule."""
        if self.sees_all and not self.edits_all:
            return Scope(department_ids=self.department_ids, region_codes=self.region_codes)
        return self

    def summary(self) -> dict[str, Any]:
        """JSON-ready description (for /api/v1/core/me)."""
        return {
            "sees_all": self.sees_all,
            "edits_all": self.edits_all,
            "department_ids": sorted(self.department_ids),
            "region_codes": sorted(self.region_codes),
        }


NOTHING = Scope()
EVERYTHING = Scope(sees_all=True, edits_all=True)


def scope_from(
    role: str | None,
    *,
    is_superuser: bool = False,
    department_id: int | None = None,
    region_code: str | None = None,
    district_department_ids: Iterable[int] = (),
) -> Scope:
    """The pure rule: a scope from a role and its place.

    `district_department_ids` are the district government departments of
    `region_code` (only used for district staff).
    """
    if is_superuser or role in SEES_ALL_ROLES:
        return EVERYTHING
    own = frozenset({department_id}) if department_id else frozenset()
    if role in READ_ALL_ROLES:
        return Scope(sees_all=True, department_ids=own)
    if role == "dept_staff":
        return Scope(department_ids=own)
    if role == "district_staff":
        regions = frozenset({region_code}) if region_code else frozenset()
        return Scope(department_ids=own | frozenset(district_department_ids), region_codes=regions)
    return NOTHING


def scope_for(user: Any) -> Scope:
    """The scope of a user, read from their profile (not cached: profiles change)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return NOTHING
    from yingji.core.models import Department, DepartmentKind, Profile

    profile = Profile.objects.select_related("department").filter(user=user).first()
    role = profile.role if profile else None
    department_id = profile.department_id if profile else None
    region_code = None
    district_ids: list[int] = []
    if profile and role == "district_staff":
        region_code = profile.region_id or (
            profile.department.region_id if profile.department else None
        )
        # a street's district government counts too
        district_code = regioncodes.district_of(region_code)
        if district_code:
            district_ids = list(
                Department.objects.filter(
                    kind=DepartmentKind.DISTRICT_GOV,
                    region_id=district_code,
                    merged_into__isnull=True,
                ).values_list("pk", flat=True)
            )
    return scope_from(
        role,
        is_superuser=user.is_superuser,
        department_id=department_id,
        region_code=region_code,
        district_department_ids=district_ids,
    )


def scope_or_system(user: Any) -> Scope:
    """`scope_for(user)`, except that no user at all (None: a command, a job, the
    demo loader) is the system, which may change everything."""
    return EVERYTHING if user is None else scope_for(user)


def out_of_scope(record: str, where: str | None = None) -> PermissionDenied:
    """The refusal of a write that would touch a record outside the user's scope,
    naming the record (and where it belongs): "统一社会信用代码 … 属番禺区,不在您的管辖范围"."""
    return PermissionDenied(f"{record}{f'属{where},' if where else ''}不在您的管辖范围")


def can_edit_department(user: Any, department: Any) -> bool:
    """May `user` edit the work of `department` (a Department or its id)?"""
    department_id = getattr(department, "pk", department)
    return scope_for(user).can_edit_department(department_id)


def is_administrator(user: Any) -> bool:
    """Superusers and users with the 管理员 role: they decide merges and manage registries."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    from yingji.core.models import Profile, Role

    return Profile.objects.filter(user=user, role=Role.ADMIN).exists()
