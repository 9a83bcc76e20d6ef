"""Responsibility API (/api/v1/responsibility/): the 三防责任人 register (scoped
reads, one person's change, the import), the 一键通 progress, and the public
posting (no login) — everything the pages do, for other systems."""

from __future__ import annotations

import datetime as dt

from django.shortcuts import get_object_or_404
from ninja import File, Query, Router, Schema, Status, UploadedFile
from ninja.errors import HttpError
from pydantic import Field

from yingji.core.apiparams import Limit, Page, Year
from yingji.core.models import Region
from yingji.responsibility import roster, services
from yingji.responsibility.models import Responsible

router = Router(tags=["responsibility"])


class SanfangPersonOut(Schema):
    id: int
    object_id: int
    object_name: str
    object_kind: str
    object_kind_label: str
    region_code: str
    region_name: str
    role: str
    role_label: str
    name: str
    post: str
    phone: str
    public_phone: str
    term_start: dt.date | None
    term_end: dt.date | None
    app_installed_on: dt.date | None


class SanfangPersonIn(Schema):
    name: str = Field(min_length=1, max_length=64)
    post: str = Field(min_length=1, max_length=200)
    phone: str = Field(min_length=1, max_length=32)
    public_phone: str = Field("", max_length=32)
    term_start: dt.date | None = None
    term_end: dt.date | None = None
    app_installed_on: dt.date | None = None


class SanfangProblemOut(Schema):
    row: int
    column: str
    message: str


class SanfangImportOut(Schema):
    written: bool
    created: int
    updated: int
    unchanged: int
    skipped_rows: int
    problems: list[SanfangProblemOut]


class SanfangProgressOut(Schema):
    code: str
    name: str
    installed: int
    pending: int
    overdue: int
    deadline: dt.date | None


class SanfangPostingOut(Schema):
    region: str
    object: str
    kind: str
    role: str
    name: str
    post: str
    phone: str


def _out(p: Responsible) -> dict:
    return {
        "id": p.pk,
        "object_id": p.obj_id,
        "object_name": p.obj.name,
        "object_kind": p.obj.kind,
        "object_kind_label": p.obj.get_kind_display(),
        "region_code": p.obj.region_id,
        "region_name": p.obj.region.name,
        "role": p.role,
        "role_label": p.get_role_display(),
        "name": p.name,
        "post": p.post,
        "phone": p.phone,
        "public_phone": p.public_phone,
        "term_start": p.term_start,
        "term_end": p.term_end,
        "app_installed_on": p.app_installed_on,
    }


@router.get("/sanfang", response=list[SanfangPersonOut])
def people(request, region: str = "", page: Page = 1, limit: Limit = 500):
    """The people the caller sees, optionally within one region (code prefix)."""
    qs = services.visible_people(request.user).select_related("obj", "obj__region")
    if region:
        qs = qs.filter(obj__region__code__startswith=region[:12])
    start = (page - 1) * limit
    return [_out(p) for p in qs.order_by("pk")[start : start + limit]]


@router.put("/sanfang/objects/{object_id}/{role}", response=SanfangPersonOut)
def put_person(request, object_id: int, role: str, body: SanfangPersonIn):
    """Register or replace the person of one kind for one object."""
    if role not in roster.ROLE_KINDS:
        raise HttpError(422, f"责任人类别应为 {'、'.join(roster.ROLE_KINDS)} 之一")
    obj = get_object_or_404(services.visible_objects(request.user), pk=object_id)
    person = Responsible.objects.filter(obj=obj, role=role).first() or Responsible(
        obj=obj, role=role
    )
    return _out(services.save_person(request.user, person, body.dict()))


@router.post("/sanfang/import", response={200: SanfangImportOut, 422: dict})
def import_register(
    request,
    file: File[UploadedFile],
    mode: str = Query("strict", description="strict:有问题整个文件不导入;partial:导入没有问题的行"),
):
    """Import a register file (CSV or .xlsx); strict: nothing written on any problem."""
    if mode not in ("strict", "partial"):
        raise HttpError(422, "mode 应为 strict 或 partial")
    result = services.import_register(
        request.user, file.name or "upload.csv", file.read(), partial=mode == "partial"
    )
    out = {
        **{k: getattr(result, k) for k in ("written", "created", "updated", "unchanged")},
        "skipped_rows": result.skipped_rows,
        "problems": [p.__dict__ for p in result.problems],
    }
    # Nothing written: the file's fault (422 with every problem by row and column).
    return Status(200 if result.written else 422, out)


@router.get("/sanfang/progress", response=list[SanfangProgressOut])
def progress(
    request,
    year: Year | None = None,
    by: str = Query("district", description="district:按区;street:按镇街"),
):
    if by not in ("district", "street"):
        raise HttpError(422, "by 应为 district 或 street")
    lines, _ = services.progress_table(request.user, year=year, by=by)
    return [line.__dict__ for line in lines]


@router.get("/public/sanfang/{code}", response=list[SanfangPostingOut], auth=None)
def posting(request, code: str):
    """A district's public list (mobile numbers masked)."""
    district = get_object_or_404(Region, code=code, level="district")
    return services.posting(district.code)


from yingji.responsibility.api_assessment import router as _assessment_router  # noqa: E402

router.add_router("/assessment", _assessment_router)
from yingji.responsibility.api_leaders import router as _leaders_router  # noqa: E402

router.add_router("", _leaders_router)
