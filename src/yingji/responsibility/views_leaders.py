"""Pages of leaders' duty lists and 巡查 (seed 12) and of the responsibility
letters (seed 13)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from yingji.core.viewhelpers import act
from yingji.responsibility import duties, leaders, letters, services
from yingji.responsibility.models import DutyItem, DutyList, LetterTemplate
from yingji.responsibility.views import _year

FAILURES = (ValidationError, PermissionDenied, duties.LetterError)


def _date(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _anyone(request) -> None:
    """Pages of this part open to every account with a scope (what each sees is
    filtered); an account without a role gets 403."""
    from yingji.core.scope import scope_for

    scope = scope_for(request.user)
    if not (scope.sees_all or scope.department_ids or scope.region_codes):
        raise PermissionDenied("无权查看")


@login_required
def leader_summary(request):
    on = services.today()
    year = _year(request, on, DutyList.objects.all())
    _anyone(request)
    areas = leaders.summary(request.user, year, on)
    return render(
        request,
        "responsibility/leader_summary.html",
        {"areas": areas, "year": year, "today": on},
    )


@login_required
def leader_detail(request, leader_id: int):
    leader = get_object_or_404(leaders.visible_leaders(request.user), pk=leader_id)
    on = services.today()
    year = _year(request, on, DutyList.objects.filter(leader=leader))
    lists = (
        DutyList.objects.filter(leader=leader, year=year).prefetch_related("items").order_by("kind")
    )
    editable = leaders.visible_leaders(request.user, editing=True).filter(pk=leader.pk).exists()
    rows = [
        (
            duty_list,
            [
                (item, duties.ITEM_STATES[duties.item_state(item.due, item.done_on, on)])
                for item in duty_list.items.all()
            ],
        )
        for duty_list in lists
    ]
    enterprises = []
    if editable:
        from yingji.risk.models import Enterprise

        enterprises = Enterprise.objects.filter(
            district__code__startswith=leader.region_id[:6]
        ).only("pk", "name")[:200]
    return render(
        request,
        "responsibility/leader_detail.html",
        {
            "leader": leader,
            "year": year,
            "rows": rows,
            "patrols": leader.patrols.filter(on__year=year).select_related("region"),
            "fulfilment": leaders.fulfilment_of(leader, year, on),
            "editable": editable,
            "enterprises": enterprises,
            "today": on,
        },
    )


@login_required
@require_POST
def item_add(request, list_id: int):
    duty_list = get_object_or_404(
        DutyList.objects.filter(leader__in=leaders.visible_leaders(request.user)), pk=list_id
    )
    return act(
        request,
        lambda: leaders.add_item(
            request.user,
            duty_list,
            request.POST.get("text", ""),
            _date(request.POST.get("due", "")),
        ),
        success="已添加事项",
        redirect_to=("responsibility:leader", duty_list.leader_id),
        errors=FAILURES,
        bad_input="日期格式不正确(如 2022-06-30)",
    )


@login_required
@require_POST
def item_done(request, item_id: int):
    item = get_object_or_404(
        DutyItem.objects.filter(duty_list__leader__in=leaders.visible_leaders(request.user)),
        pk=item_id,
    )
    return act(
        request,
        lambda: leaders.complete_item(
            request.user,
            item,
            _date(request.POST.get("done_on", "")) or services.today(),
            request.POST.get("note", ""),
        ),
        success="已记录完成情况",
        redirect_to=("responsibility:leader", item.duty_list.leader_id),
        errors=FAILURES,
        bad_input="日期格式不正确(如 2022-06-30)",
    )


@login_required
@require_POST
def patrol_add(request, leader_id: int):
    leader = get_object_or_404(leaders.visible_leaders(request.user), pk=leader_id)

    def record():
        from yingji.risk.models import Enterprise

        problems = []
        for n in range(1, 4):
            text = request.POST.get(f"problem_{n}", "").strip()
            if not text:
                continue
            enterprise = Enterprise.objects.filter(
                pk=request.POST.get(f"enterprise_{n}") or 0
            ).first()
            if enterprise is None:
                raise ValidationError({f"enterprise_{n}": f"第 {n} 个问题请选择所在企业"})
            problems.append((enterprise, text))
        patrol, hazards = leaders.record_patrol(
            request.user,
            leader,
            on=_date(request.POST.get("on", "")) or services.today(),
            place=request.POST.get("place", ""),
            region=leader.region,
            summary=request.POST.get("summary", ""),
            problems=problems,
        )
        return hazards

    return act(
        request,
        record,
        success=lambda hazards: (
            "已记录巡查" + (f",{len(hazards)} 个问题已转为隐患" if hazards else "")
        ),
        redirect_to=("responsibility:leader", leader.pk),
        errors=FAILURES,
        bad_input="日期格式不正确(如 2022-06-30)",
    )


@login_required
def letter_list(request):
    on = services.today()
    year = _year(request, on, LetterTemplate.objects.all())
    template = LetterTemplate.objects.filter(year=year).first()
    visible = letters.visible_letters(request.user)
    lead = leaders.is_lead(request.user)
    _anyone(request)
    rows = visible.filter(template=template).select_related("party") if template else []
    # The letters' indicators are what the year's assessment scores: its result
    # beside each letter.
    from yingji.responsibility.models import Sheet

    results = {
        s.department_id: s
        for s in Sheet.objects.filter(indicator_set__year=year).only(
            "department_id", "total", "rank", "vetoed", "state"
        )
    }
    return render(
        request,
        "responsibility/letters.html",
        {
            "year": year,
            "template": template,
            "letters": [
                (letter, duties.LETTERS.allowed(letter.state), results.get(letter.party_id))
                for letter in rows
            ],
            "lead": lead,
        },
    )


@login_required
@require_POST
def letter_move(request, letter_id: int):
    letter = get_object_or_404(letters.visible_letters(request.user), pk=letter_id)
    action = request.POST.get("action", "")
    if action not in duties.LETTERS.by_action:
        raise Http404
    return act(
        request,
        lambda: letters.move(
            request.user,
            letter,
            action,
            signed_on=_date(request.POST.get("signed_on", "")),
            signed_by=request.POST.get("signed_by", ""),
            scan=request.FILES.get("scan"),
        ),
        success=f"{letter.party}:已{duties.LETTERS.by_action[action].label}",
        redirect_to="responsibility:letters",
        errors=FAILURES,
        bad_input="日期格式不正确(如 2022-02-28)",
    )


@login_required
@require_POST
def letters_draft(request):
    template = get_object_or_404(LetterTemplate, year=request.POST.get("year") or 0)
    return act(
        request,
        lambda: letters.draft_letters(request.user, template),
        success=lambda n: f"已为 {n} 个单位起草责任书",
        redirect_to="responsibility:letters",
        errors=FAILURES,
    )
