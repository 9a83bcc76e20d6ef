"""Leaders' duty lists and 巡查 and the responsibility letters, for other systems
(/api/v1/responsibility/leaders/…, /letters/…): the same services and scope as
the pages."""

from __future__ import annotations

import datetime as dt

from django.shortcuts import get_object_or_404
from ninja import File, Form, Router, Schema, UploadedFile
from pydantic import Field

from yingji.core.apiparams import Year
from yingji.responsibility import duties, leaders, letters, services
from yingji.responsibility.models import DutyItem, Letter, LetterTemplate

router = Router(tags=["responsibility"])


class FulfilmentOut(Schema):
    leader_id: int
    name: str
    post: str
    side_label: str
    region_code: str
    on_time: int
    late: int
    overdue: int
    open: int
    patrols: int
    patrols_required: int


class ItemDoneIn(Schema):
    done_on: dt.date
    note: str = Field("", max_length=500)


class DutyItemOut(Schema):
    id: int
    text: str
    due: dt.date | None
    done_on: dt.date | None
    state_label: str


class ProblemIn(Schema):
    enterprise_id: int
    text: str = Field(min_length=1, max_length=500)


class PatrolIn(Schema):
    on: dt.date
    place: str = Field(min_length=1, max_length=200)
    summary: str = Field("", max_length=2000)
    problems: list[ProblemIn] = Field(default_factory=list, max_length=20)


class PatrolOut(Schema):
    id: int
    on: dt.date
    place: str
    hazard_codes: list[str]


class LetterOut(Schema):
    id: int
    year: int
    party: str
    state: str
    state_label: str
    signed_on: dt.date | None
    signed_by: str
    has_scan: bool
    indicators: list[dict]


class LetterMoveIn(Schema):
    action: str = Field(description="issue 印发、redraft 退回修改、withdraw 撤回")


@router.get("/leaders", response=list[FulfilmentOut])
def leader_fulfilment(request, year: Year | None = None):
    """Each leader the caller sees with the year's fulfilment (述职 reads this)."""
    year = year or services.today().year
    out = []
    for area in leaders.summary(request.user, year):
        for leader, f in area["leaders"]:
            out.append(
                {
                    "leader_id": leader.pk,
                    "name": leader.name,
                    "post": leader.post,
                    "side_label": leader.get_side_display(),
                    "region_code": leader.region_id,
                    **{k: getattr(f, k) for k in ("on_time", "late", "overdue", "open")},
                    "patrols": f.patrols,
                    "patrols_required": f.patrols_required,
                }
            )
    return out


@router.post("/leaders/items/{item_id}/done", response=DutyItemOut)
def item_done(request, item_id: int, body: ItemDoneIn):
    item = get_object_or_404(
        DutyItem.objects.filter(duty_list__leader__in=leaders.visible_leaders(request.user)),
        pk=item_id,
    )
    item = leaders.complete_item(request.user, item, body.done_on, body.note)
    state = duties.item_state(item.due, item.done_on, services.today())
    return {
        "id": item.pk,
        "text": item.text,
        "due": item.due,
        "done_on": item.done_on,
        "state_label": duties.ITEM_STATES[state],
    }


@router.post("/leaders/{leader_id}/patrols", response=PatrolOut)
def add_patrol(request, leader_id: int, body: PatrolIn):
    """A 巡查 record; each problem at an enterprise opens a hazard in the risk register."""
    from yingji.risk.models import Enterprise

    leader = get_object_or_404(leaders.visible_leaders(request.user), pk=leader_id)
    problems = [(get_object_or_404(Enterprise, pk=p.enterprise_id), p.text) for p in body.problems]
    patrol, hazards = leaders.record_patrol(
        request.user,
        leader,
        on=body.on,
        place=body.place,
        region=leader.region,
        summary=body.summary,
        problems=problems,
    )
    return {
        "id": patrol.pk,
        "on": patrol.on,
        "place": patrol.place,
        "hazard_codes": [h.code for h in hazards],
    }


def _letter_out(letter: Letter) -> dict:
    return {
        "id": letter.pk,
        "year": letter.template.year,
        "party": letter.party.name,
        "state": letter.state,
        "state_label": letter.get_state_display(),
        "signed_on": letter.signed_on,
        "signed_by": letter.signed_by,
        "has_scan": bool(letter.scan),
        "indicators": letter.indicators,
    }


@router.get("/letters", response=list[LetterOut])
def letter_list(request, year: Year | None = None):
    qs = letters.visible_letters(request.user).select_related("template", "party")
    if year:
        qs = qs.filter(template__in=LetterTemplate.objects.filter(year=year))
    return [_letter_out(x) for x in qs.order_by("template__year", "party_id")]


@router.post("/letters/{letter_id}/transitions", response=LetterOut)
def letter_move(request, letter_id: int, body: LetterMoveIn):
    """Issue, send back or withdraw a letter (signing needs the scan: /sign)."""
    letter = get_object_or_404(letters.visible_letters(request.user), pk=letter_id)
    if body.action == "sign":
        from ninja.errors import HttpError

        raise HttpError(422, "签订须上传扫描件:请用 /sign")
    return _letter_out(letters.move(request.user, letter, body.action))


@router.post("/letters/{letter_id}/sign", response=LetterOut)
def letter_sign(
    request,
    letter_id: int,
    scan: File[UploadedFile],
    signed_on: Form[dt.date],
    signed_by: Form[str],
):
    """Sign a letter: date, signatory and the signed scan (PDF or image)."""
    letter = get_object_or_404(letters.visible_letters(request.user), pk=letter_id)
    return _letter_out(
        letters.move(
            request.user, letter, "sign", signed_on=signed_on, signed_by=signed_by, scan=scan
        )
    )
