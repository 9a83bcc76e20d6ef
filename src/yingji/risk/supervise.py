"""Daily supervision of the hazard ledger: reminders before the deadline,
overdue escalation, late acceptance and due 回头看 re-checks, all through the
one outbox (idempotent by dedupe key, so running twice sends nothing twice).

Who hears what:
- reminder (deadline within N working days): the district government (属地);
- overdue: the supervising department (三管三必须) and the district government;
- acceptance late (submitted, deadline + acceptance_days passed): the supervising department;
- 回头看 due: the supervising department and the district government.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q

from yingji.core import outbox
from yingji.core import workcalendar as wc
from yingji.core.models import Department, DepartmentKind
from yingji.risk import hazardflow
from yingji.risk.models import Hazard, Recheck
from yingji.risk.services import config


@dataclass
class SuperviseResult:
    reminders: int = 0
    overdue: int = 0
    acceptance_late: int = 0
    rechecks_due: int = 0
    notifications: int = 0

    def summary(self) -> str:
        return (
            f"到期提醒 {self.reminders} 条,超期升级 {self.overdue} 条,"
            f"验收超时 {self.acceptance_late} 条,回头看到期 {self.rechecks_due} 条,"
            f"通知 {self.notifications} 份"
        )


def _reminder_horizon(day: dt.date) -> dt.date:
    try:
        return wc.add_workdays(day, config("reminder_workdays"))
    except wc.CalendarRangeError:
        return day + dt.timedelta(days=config("reminder_workdays"))


def district_governments() -> dict[str, Department]:
    """District code → its district government department."""
    return {
        d.region_id: d
        for d in Department.objects.filter(
            kind=DepartmentKind.DISTRICT_GOV, merged_into__isnull=True, region__isnull=False
        )
    }


def _send(departments, subject: str, body: str, key: str, source, result: SuperviseResult) -> None:
    seen = set()
    for dept in departments:
        if dept is None or dept.pk in seen:
            continue
        seen.add(dept.pk)
        result.notifications += len(
            outbox.notify_department(
                dept, subject=subject, body=body, dedupe_key=f"{key}:d{dept.pk}", source=source
            )
        )


def _describe(h: Hazard) -> str:
    return (
        f"隐患编号:{h.code}\n企业:{h.enterprise.name}\n隐患:{h.description}\n"
        f"等级:{h.get_level_display()}  状态:{h.get_state_display()}\n"
        f"整改期限:{h.deadline}\n"
    )


def supervise(day: dt.date) -> SuperviseResult:
    """Run the day's reminders and escalations (as of `day`)."""
    result = SuperviseResult()
    districts = district_governments()
    base = Hazard.objects.select_related("enterprise", "department")
    deadline_states = sorted(hazardflow.DEADLINE_STATES)

    horizon = _reminder_horizon(day)
    for h in base.filter(
        state__in=deadline_states, deadline__gte=day, deadline__lte=horizon
    ).iterator(chunk_size=500):
        result.reminders += 1
        _send(
            [districts.get(h.district_id)],
            f"隐患整改即将到期:{h.enterprise.name}",
            _describe(h) + "请督促企业按期完成整改并提请验收。",
            f"risk:hazard:{h.pk}:remind:{h.deadline}",
            h,
            result,
        )

    for h in base.filter(state__in=deadline_states, deadline__lt=day).iterator(chunk_size=500):
        result.overdue += 1
        _send(
            [h.department, districts.get(h.district_id)],
            f"隐患整改超期:{h.enterprise.name}",
            _describe(h) + f"已超过整改期限(截至{day}),请依法督促整改。",
            f"risk:hazard:{h.pk}:overdue:{h.deadline}",
            h,
            result,
        )

    window = dt.timedelta(days=config("acceptance_days"))
    for h in base.filter(state=hazardflow.State.SUBMITTED, deadline__lt=day - window).iterator(
        chunk_size=500
    ):
        result.acceptance_late += 1
        _send(
            [h.department],
            f"隐患验收超时:{h.enterprise.name}",
            _describe(h) + f"已提请验收,但超过整改期限{config('acceptance_days')}日仍未验收。",
            f"risk:hazard:{h.pk}:acceptance:{h.deadline}",
            h,
            result,
        )

    for r in (
        Recheck.objects.select_related("hazard__enterprise", "hazard__department")
        .filter(Q(done_on__isnull=True), due__lte=day)
        .iterator(chunk_size=500)
    ):
        result.rechecks_due += 1
        h = r.hazard
        _send(
            [h.department, districts.get(h.district_id)],
            f"隐患回头看到期:{h.enterprise.name}",
            _describe(h) + f"已于{h.closed_on}销号,请于{r.due}前开展回头看复查。",
            f"risk:recheck:{r.pk}",
            r,
            result,
        )
    return result
