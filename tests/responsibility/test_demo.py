"""The demo register on Guangzhou's real regions: every district and street has its
行政责任人, every object every kind it needs, the warning group is synced, and a
second load adds nothing."""

from yingji.alerts.models import SubscriberGroup
from yingji.core import regions
from yingji.core.departments import load_departments
from yingji.core.models import Region
from yingji.responsibility import demo, roster
from yingji.responsibility.models import DutyObject, Responsible


def test_demo_register_is_complete_and_loads_once(db):
    regions.load_pack("guangzhou")
    load_departments()
    summary = demo.load_demo()
    areas = Region.objects.filter(level__in=("city", "district", "street")).count()
    assert DutyObject.objects.filter(kind="area").count() == areas
    assert DutyObject.objects.exclude(kind="area").count() > 100
    for obj in DutyObject.objects.prefetch_related("people"):
        assert roster.missing_roles(obj.kind, [p.role for p in obj.people.all()]) == [], obj
    people = Responsible.objects.count()
    group = SubscriberGroup.objects.get(key="sanfang")
    assert group.subscribers.count() == people
    assert f"{people} 名三防责任人" in summary
    installed = Responsible.objects.exclude(app_installed_on=None).count()
    assert 0.7 < installed / people < 0.9
    from yingji.responsibility.models import Leader, Letter

    districts = Region.objects.filter(level="district").count()
    assert Leader.objects.count() == 2 * (districts + 1)
    parties = Letter.objects.values_list("party__kind", flat=True)
    from yingji.core.models import Department

    expected = Department.objects.filter(
        kind__in=("district_gov", "municipal"), merged_into__isnull=True
    ).count()
    assert set(parties) == {"district_gov", "municipal"} and len(parties) == expected
    assert 0.7 < Letter.objects.filter(state="signed").count() / expected <= 1
    assert demo.load_demo().startswith("已有演示名册,未重复加载")
    assert Responsible.objects.count() == people


def test_demo_assessment_2022_every_unit_ranked_two_interviews(db):
    from yingji.core.demo_users import create_demo_users
    from yingji.core.models import Notification
    from yingji.responsibility.models import IndicatorSet, Interview, ReviewSession

    regions.load_pack("guangzhou")
    create_demo_users()
    summary = demo.load_assessment_demo()
    iset = IndicatorSet.objects.get(year=2022)
    sheets = list(iset.sheets.all())
    assert len(sheets) == 23 and all(s.state == "agreed" and s.rank for s in sheets)
    totals = [s.total for s in sheets]
    assert max(totals) - min(totals) > 10  # a realistic spread
    assert Interview.objects.count() == 2
    assert sorted(Interview.objects.values_list("state", flat=True)) == ["closed", "held"]
    assert ReviewSession.objects.filter(year=2022, state="sent").count() == 9
    assert (
        ReviewSession.objects.get(department__name="天河区政府")
        .reviewers.filter(kind="cppcc")
        .count()
        == 2
    )
    assert not Notification.objects.filter(status="queued").exists()
    assert "约谈 2 个" in summary
    assert demo.load_assessment_demo() == "已有 2022 年度考核,未重复加载"
