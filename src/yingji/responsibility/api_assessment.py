"""Assessment API (/api/v1/responsibility/assessment/): the year's ranking, one
sheet with its scores, the assessors' steps (first, check, reconcile), the 约谈
records, and the 述职 review's score sheets — what the pages do, scoped alike."""

from __future__ import annotations

import datetime as dt

from django.shortcuts import get_object_or_404
from ninja import Router, Schema
from ninja.errors import HttpError

from yingji.responsibility import assessment as svc
from yingji.responsibility.models import IndicatorSet, Interview, Reviewer

router = Router(tags=["responsibility"])


class RankOut(Schema):
    sheet_id: int
    group: str
    department: str
    state: str
    total: float | None
    rank: int | None
    vetoed: bool
    veto_reason: str
    interview: str | None


class AssessmentScoreOut(Schema):
    code: str
    name: str
    kind: str
    max_points: float
    feed: str
    metric: dict
    computed: float | None
    first: float | None
    second: float | None
    final: float | None
    reason: str


class SheetOut(Schema):
    id: int
    year: int
    department: str
    group: str
    state: str
    total: float | None
    rank: int | None
    vetoed: bool
    veto_reason: str
    scores: list[AssessmentScoreOut]


class ValuesIn(Schema):
    values: dict[str, float]
    notes: dict[str, str] = {}
    reasons: dict[str, str] = {}


class CheckOut(Schema):
    state: str
    differences: dict[str, list[float]]


class InterviewIn(Schema):
    held_on: dt.date
    attendees: str
    problems: str
    deadline: dt.date


class CloseIn(Schema):
    rectification: str
    closed_on: dt.date


class InterviewOut(Schema):
    id: int
    department: str
    state: str
    held_on: dt.date | None
    deadline: dt.date | None
    closed_on: dt.date | None


class ReviewIn(Schema):
    items: dict[str, float]
    comment: str = ""


class ReviewerOut(Schema):
    id: int
    name: str
    kind: str
    total: float | None


def _set(year: int) -> IndicatorSet:
    return get_object_or_404(IndicatorSet, year=year)


@router.get("/{year}/ranking", response=list[RankOut])
def ranking(request, year: int):
    """Every group's ranking (assessors only)."""
    if not svc.is_assessor(request.user):
        raise HttpError(403, "只有考核人员可以查看全部排名")
    return [
        {
            "sheet_id": s.pk,
            "group": g,
            "department": s.department.name,
            "state": s.state,
            "total": s.total,
            "rank": s.rank,
            "vetoed": s.vetoed,
            "veto_reason": s.veto_reason,
            "interview": s.interview_state,
        }
        for g, rows in svc.ranking(_set(year)).items()
        for s in rows
    ]


def _sheet_out(s) -> dict:
    rows = svc.sheet_view(s)["rows"]
    return {
        "id": s.pk,
        "year": s.indicator_set.year,
        "department": s.department.name,
        "group": s.group,
        "state": s.state,
        "total": s.total,
        "rank": s.rank,
        "vetoed": s.vetoed,
        "veto_reason": s.veto_reason,
        "scores": [
            {
                "code": r.indicator.code,
                "name": r.indicator.name,
                "kind": r.indicator.kind,
                "max_points": r.indicator.max_points,
                "feed": r.indicator.feed,
                "metric": r.metric or {},
                **{f: getattr(r, f) for f in ("computed", "first", "second", "final", "reason")},
            }
            for r in rows
        ],
    }


def _get_sheet(request, sheet_id: int):
    return get_object_or_404(
        svc.visible_sheets(request.user).select_related("department", "indicator_set"), pk=sheet_id
    )


@router.get("/sheets/{sheet_id}", response=SheetOut)
def sheet(request, sheet_id: int):
    return _sheet_out(_get_sheet(request, sheet_id))


@router.post("/sheets/{sheet_id}/first", response=SheetOut)
def first(request, sheet_id: int, body: ValuesIn):
    s = svc.score_first(request.user, _get_sheet(request, sheet_id), body.values, body.notes)
    return _sheet_out(_get_sheet(request, s.pk))


@router.post("/sheets/{sheet_id}/check", response=CheckOut)
def check(request, sheet_id: int, body: ValuesIn):
    diff = svc.check(request.user, _get_sheet(request, sheet_id), body.values)
    return {
        "state": _get_sheet(request, sheet_id).state,
        "differences": {k: list(v) for k, v in diff.items()},
    }


@router.post("/sheets/{sheet_id}/reconcile", response=SheetOut)
def reconcile(request, sheet_id: int, body: ValuesIn):
    svc.reconcile(request.user, _get_sheet(request, sheet_id), body.values, body.reasons)
    return _sheet_out(_get_sheet(request, sheet_id))


def _iv(request, iv_id: int) -> Interview:
    iv = get_object_or_404(Interview.objects.select_related("sheet__department"), pk=iv_id)
    if not svc.visible_sheets(request.user).filter(pk=iv.sheet_id).exists():
        raise HttpError(404, "Not Found")
    return iv


def _iv_out(iv: Interview) -> dict:
    return {
        "id": iv.pk,
        "department": iv.sheet.department.name,
        "state": iv.state,
        "held_on": iv.held_on,
        "deadline": iv.deadline,
        "closed_on": iv.closed_on,
    }


@router.post("/interviews/{iv_id}/hold", response=InterviewOut)
def hold(request, iv_id: int, body: InterviewIn):
    return _iv_out(svc.hold_interview(request.user, _iv(request, iv_id), **body.dict()))


@router.post("/interviews/{iv_id}/close", response=InterviewOut)
def close(request, iv_id: int, body: CloseIn):
    return _iv_out(svc.close_interview(request.user, _iv(request, iv_id), **body.dict()))


@router.post("/reviewers/{reviewer_id}/score", response=ReviewerOut)
def review_score(request, reviewer_id: int, body: ReviewIn):
    """A reviewer's score sheet (the reviewer's own account, or an assessor)."""
    reviewer = get_object_or_404(Reviewer, pk=reviewer_id)
    if not svc.may_score(request.user, reviewer):
        raise HttpError(404, "Not Found")
    r = svc.submit_review(request.user, reviewer, body.items, body.comment)
    return {"id": r.pk, "name": r.name, "kind": r.kind, "total": r.total}


class SessionOut(Schema):
    id: int
    year: int
    department: str
    speaker: str
    held_on: dt.date
    method: str
    state: str
    result: float | None
    comments: str
    reviewers: list[ReviewerOut]


def _session_out(s) -> dict:
    return {
        "id": s.pk,
        "year": s.year,
        "department": s.department.name,
        "speaker": s.speaker,
        "held_on": s.held_on,
        "method": s.method,
        "state": s.state,
        "result": s.result,
        "comments": s.comments,
        "reviewers": [
            {"id": r.pk, "name": r.name, "kind": r.kind, "total": r.total}
            for r in s.reviewers.all()
        ],
    }


@router.get("/reviews", response=list[SessionOut])
def reviews(request, year: int | None = None):
    """The 述职 sessions the caller sees (assessors all; a district its own)."""
    qs = svc.visible_sessions(request.user).prefetch_related("reviewers")
    if year is not None:
        qs = qs.filter(year=year)
    return [_session_out(s) for s in qs]


@router.post("/reviews/{session_id}/close", response=SessionOut)
def close_review(request, session_id: int):
    """Aggregate the reviewers' scores (the session's method) and their comments."""
    s = get_object_or_404(svc.visible_sessions(request.user), pk=session_id)
    return _session_out(svc.close_session(request.user, s))


@router.post("/reviews/{session_id}/send", response=SessionOut)
def send_review(request, session_id: int):
    """Send the result to the district through the delivery system."""
    s = get_object_or_404(svc.visible_sessions(request.user), pk=session_id)
    svc.send_result(request.user, s)
    return _session_out(s)
