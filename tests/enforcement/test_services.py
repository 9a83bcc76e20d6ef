"""Enforcement use cases on the database: seed, draws and their log, verification,
key-date visits, inspections → findings → risk hazards, exemptions, cases,
dishonesty list, publication and its alarm, statistics."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from tests.enforcement import factories as f
from yingji.core.models import Notification, SpecialPeriod
from yingji.enforcement import services
from yingji.enforcement.models import Draw, Inspection, InspectionPlan, Publication
from yingji.risk.models import Hazard

pytestmark = pytest.mark.django_db


@pytest.fixture
def w():
    return f.world()


def test_seed_must_be_announced_before_its_value(w):
    plan = InspectionPlan.objects.create(year=2022, title="x", department=w["zhifa"])
    with pytest.raises(ValidationError, match="须先公布"):
        services.fix_seed(plan, "1 2 3", w["handler"])
    with pytest.raises(PermissionDenied):
        services.announce_seed_source(plan, "双色球", w["other"])
    with pytest.raises(ValidationError, match="随机种子尚未确定"):
        services.draw_annual(plan, w["handler"])
    assert w["plan"].seed == services.drawing.seed_from_public_value("03 07 12 19 25 31 + 09")
    with pytest.raises(ValidationError, match="不能更改"):
        services.fix_seed(w["plan"], "another value", w["handler"])


def test_annual_draw_plans_a_year_of_inspections(w):
    record = services.draw_annual(w["plan"], w["handler"])
    assert record.status == Draw.Status.DONE and record.algorithm == "yingji-draw/1"
    inspections = list(Inspection.objects.filter(draw=record).prefetch_related("inspectors"))
    # 10 % of 40 hc_use and of 10 town_gas, rounded up
    assert Counter(i.category for i in inspections) == {"hc_use": 4, "town_gas": 1}
    for i in inspections:
        numbers = {x.certificate_number for x in i.inspectors.all()}
        assert len(numbers) == 2
        assert all(n[0] == ("T" if i.district_id == f.TIANHE else "B") for n in numbers)
        assert i.window_start.year == 2022 and i.window_start.day == 1
    assert record.inputs["plan_seed"]["source"] == "双色球 2022001 期开奖号码"
    schedule = services.monthly_schedule(w["plan"])
    assert sum(r["double_random"] for r in schedule) == 5
    with pytest.raises(ValidationError, match="不能重抽"):
        services.draw_annual(w["plan"], w["handler"])


def test_verification_reruns_and_detects_tampering(w):
    record = services.draw_annual(w["plan"], w["handler"])
    check = services.verify_draw(record)
    assert check.ok and record.verified_ok
    record.result["picks"][0]["inspectors"].reverse()
    record.result_sha256 = services.drawing.sha256_json({"altered": True})
    assert not services.verify_draw(record).ok
    record.inputs["entities"][0]["complaints"] = 9
    assert not services.verify_draw(record).inputs_ok


def test_impossible_draw_is_logged_with_its_explanation(w):
    for insp in w["inspectors"]:
        if insp.certificate_number.startswith("B"):
            insp.certificate_valid_to = dt.date(2021, 12, 31)
            insp.save()
    with pytest.raises(services.DrawRefused) as err:
        services.draw_annual(w["plan"], w["handler"])
    record = err.value.draw
    assert record.status == Draw.Status.IMPOSSIBLE and not record.inspections.exists()
    assert (
        "4 名执法证在该时段无效" in record.explanation and "91440100MA00000" in record.explanation
    )
    assert services.verify_draw(record).ok  # the failure itself re-runs identically


def test_key_date_visits_cover_the_holidays_and_special_periods(w):
    SpecialPeriod.objects.create(
        name="党的二十大", start=dt.date(2022, 10, 16), end=dt.date(2022, 10, 22)
    )
    draws = services.draw_key_dates(w["plan"], w["handler"])
    labels = [d.label for d in draws]
    assert labels == [
        "春节明查暗访",
        "清明明查暗访",
        "端午明查暗访",
        "七一明查暗访",
        "中秋明查暗访",
        "国庆明查暗访",
        "党的二十大明查暗访",
    ]
    spring = Inspection.objects.filter(draw=draws[0])
    assert spring.count() == 2 and all(i.kind == "unannounced" for i in spring)
    assert {i.window_start for i in spring} == {dt.date(2022, 1, 31)}
    assert services.draw_key_dates(w["plan"], w["handler"]) == []  # nothing left to draw


def test_last_inspector_is_not_sent_again_next_year(w):
    services.draw_annual(w["plan"], w["handler"])
    nxt = InspectionPlan.objects.create(
        year=2023, title="2023", department=w["zhifa"], default_proportion=1.0
    )
    services.announce_seed_source(nxt, "双色球 2023001 期", w["handler"])
    services.fix_seed(nxt, "01 02 03", w["handler"])
    services.draw_annual(nxt, w["handler"])
    for old in Inspection.objects.filter(plan=w["plan"]):
        new = Inspection.objects.get(plan=nxt, enterprise=old.enterprise)
        assert not set(old.inspectors.all()) & set(new.inspectors.all())


def _inspection(w) -> Inspection:
    services.draw_annual(w["plan"], w["handler"])
    return Inspection.objects.filter(draw__plan=w["plan"], category="hc_use").first()


def test_findings_become_enforcement_hazards_and_cases(w):
    insp = _inspection(w)
    services.record_inspection(
        insp,
        w["handler"],
        inspected_on=insp.window_start,
        findings=[
            services.FindingInput("HC-02", "重大危险源未设置监控", major=True),
            services.FindingInput("GEN-01", "未如实记录安全培训", corrected=True),
        ],
        summary="现场检查",
    )
    insp.refresh_from_db()
    assert insp.state == "done" and insp.outcome == "case"
    assert insp.publish_by == dt.date(2022, insp.window_start.month, 1) or insp.publish_by
    major, minor = insp.findings.order_by("id")
    assert major.hazard.source == Hazard.Source.ENFORCEMENT and major.hazard.level == "major"
    assert major.hazard.origin == major and major.hazard.enterprise == insp.enterprise
    assert minor.exemption.code == "MF-01" and "免处罚清单" in minor.exemption_clause
    assert major.exemption is None and "属重大事故隐患" in major.exemption_note
    case = insp.cases.get()
    assert list(case.findings.all()) == [major] and case.state == "filed"


def test_second_offence_is_not_exempt(w):
    first = _inspection(w)
    visits = services.draw_key_dates(w["plan"], w["handler"])
    # The visit draw may already hold the same enterprise (draw + enterprise is
    # unique): then that inspection is the second one.
    second = (
        Inspection.objects.filter(draw=visits[0], enterprise=first.enterprise).first()
        or Inspection.objects.filter(draw=visits[0]).first()
    )
    second.enterprise, second.category = first.enterprise, first.category
    second.save()
    finding = services.FindingInput("GEN-01", "未如实记录安全培训", corrected=True)
    services.record_inspection(
        first, w["handler"], inspected_on=first.window_start, findings=[finding]
    )
    services.record_inspection(
        second, w["handler"], inspected_on=second.window_start, findings=[finding]
    )
    assert first.findings.get().exemption is not None and first.outcome == "rectify"
    later = second.findings.get()
    assert later.exemption is None and "非首次违法" in later.exemption_note


def test_inspection_refuses_strangers_and_unknown_checklist_items(w):
    insp = _inspection(w)
    with pytest.raises(PermissionDenied):
        services.record_inspection(insp, w["other"], inspected_on=insp.window_start)
    with pytest.raises(ValidationError, match="不在该领域的检查表"):
        services.record_inspection(
            insp,
            w["handler"],
            inspected_on=insp.window_start,
            findings=[services.FindingInput("XX-99", "?")],
        )


def _case(w):
    insp = _inspection(w)
    services.record_inspection(
        insp,
        w["handler"],
        inspected_on=insp.window_start,
        findings=[services.FindingInput("HC-01", "未建立安全管理制度")],
    )
    return insp.cases.get()


def test_case_runs_through_hearing_to_closing(w):
    case = _case(w)
    h, boss = w["handler"], w["boss"]
    services.transition_case(case, "investigate", h)
    services.transition_case(case, "notify", h, comment="行政处罚告知书", amount=20000)
    services.transition_case(case, "request_hearing", h, comment="当事人申请听证")
    with pytest.raises(PermissionDenied, match="负责人"):
        services.transition_case(case, "decide_after_hearing", h, comment="决定", amount=15000)
    services.transition_case(
        case,
        "decide_after_hearing",
        boss,
        comment="处罚决定书",
        amount=15000,
        on=dt.date(2022, 8, 1),
    )
    services.transition_case(case, "execute", h)
    with pytest.raises(ValidationError, match="须填写说明"):
        services.transition_case(case, "close", h)
    services.transition_case(case, "close", h, comment="罚款已缴纳")
    case.refresh_from_db()
    assert (case.state, case.amount, case.decided_on, case.outcome) == (
        "closed",
        15000,
        dt.date(2022, 8, 1),
        "执行完毕",
    )
    assert [e.action for e in case.events.all()] == [
        "file",
        "investigate",
        "notify",
        "request_hearing",
        "decide_after_hearing",
        "execute",
        "close",
    ]


def test_case_refuses_moves_off_the_table(w):
    case = _case(w)
    with pytest.raises(ValidationError, match="不能“作出处罚决定”"):
        services.transition_case(case, "decide", w["boss"], comment="x", amount=1)
    with pytest.raises(PermissionDenied):
        services.transition_case(case, "investigate", w["other"])
    services.transition_case(case, "investigate", w["handler"])
    services.transition_case(case, "notify", w["handler"], comment="告知", amount=5000)
    services.transition_case(case, "decide", w["boss"], comment="决定", amount=5000)
    services.transition_case(case, "apply_reconsideration", w["handler"], comment="申请复议")
    services.transition_case(case, "revoke", w["boss"], comment="复议机关撤销")
    case.refresh_from_db()
    assert case.state == "closed" and case.outcome == "复议撤销"


def test_dishonesty_list_weighs_in_the_next_draw_until_removed(w):
    case = _case(w)
    for action, who, kw in (
        ("investigate", "handler", {}),
        ("notify", "handler", {"comment": "告知", "amount": 50000}),
        ("decide", "boss", {"comment": "决定", "amount": 50000}),
    ):
        services.transition_case(case, action, w[who], **kw)
    with pytest.raises(PermissionDenied):
        services.list_dishonest(
            case.enterprise,
            w["handler"],
            basis="x",
            decided_by=w["zhifa"],
            listed_on=dt.date(2022, 9, 1),
            case=case,
        )
    with pytest.raises(ValidationError, match="谁处罚谁认定"):
        services.list_dishonest(
            case.enterprise,
            w["boss"],
            basis="x",
            case=case,
            decided_by=w["other"].profile.department,
            listed_on=dt.date(2022, 9, 1),
        )
    listing = services.list_dishonest(
        case.enterprise,
        w["boss"],
        basis="应急管理部令第11号第六条",
        decided_by=w["zhifa"],
        listed_on=dt.date(2022, 9, 1),
        period_months=12,
        case=case,
        joint_punishments=["bidding_restriction", "frequent_inspection"],
    )
    assert listing.expires_on == dt.date(2023, 9, 1)
    code = case.enterprise.credit_code
    entities, _ = services.entity_register(dt.date(2023, 1, 1))
    assert next(e for e in entities if e.id == code).dishonest
    services.remove_early(listing, w["boss"], reason="信用修复", on=dt.date(2022, 12, 1))
    entities, _ = services.entity_register(dt.date(2023, 1, 1))
    assert not next(e for e in entities if e.id == code).dishonest


def test_late_publication_raises_one_alarm_and_is_recorded(w, django_capture_on_commit_callbacks):
    insp = _inspection(w)
    insp.window_start, insp.window_label = dt.date(2022, 3, 1), "2022年3月"
    services.record_inspection(insp, w["handler"], inspected_on=dt.date(2022, 3, 1))
    assert insp.publish_by == dt.date(2022, 3, 29)  # 20 working days later
    assert services.publication_alarm(dt.date(2022, 3, 29)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert services.publication_alarm(dt.date(2022, 3, 30)) == 1
        services.publication_alarm(dt.date(2022, 3, 31))
    notes = Notification.objects.filter(dedupe_key__startswith="enforcement-late-publication")
    assert notes.count() == 2  # the department mailbox and its member, once each
    assert any("逾期未公示" in m.subject for m in mail.outbox)
    from django.utils import timezone

    at = timezone.make_aware(dt.datetime(2022, 4, 1, 10))
    pub = services.publish(insp, w["handler"], at=at)
    assert pub.late_workdays == 3 and pub.result == "未发现问题"
    assert services.publish(insp, w["handler"]) == pub
    assert not services.late_publications(dt.date(2022, 4, 5)).exists()
    assert Publication.objects.count() == 1


def test_statistics_by_district_and_penalty_rate(w):
    services.draw_annual(w["plan"], w["handler"])
    done = list(Inspection.objects.filter(draw__plan=w["plan"], category="hc_use")[:2])
    services.record_inspection(
        done[0],
        w["handler"],
        inspected_on=done[0].window_start,
        findings=[services.FindingInput("HC-01", "无制度")],
    )
    services.record_inspection(done[1], w["handler"], inspected_on=done[1].window_start)
    case = done[0].cases.get()
    services.transition_case(case, "investigate", w["handler"])
    services.transition_case(case, "notify", w["handler"], comment="告知", amount=30000)
    services.transition_case(case, "decide", w["boss"], comment="决定", amount=30000)
    rows = {r.key: r for r in services.statistics(2022, "district")}
    th = rows[f.TIANHE]
    assert (th.label, th.inspections, th.done, th.findings, th.cases, th.penalised) == (
        "天河区",
        4,
        2,
        1,
        1,
        1,
    )
    assert th.penalty_rate == 0.5 and th.amount == 30000
    assert rows[f.BAIYUN].done == 0 and rows[f.BAIYUN].penalty_rate is None
    total = services.totals(list(rows.values()))
    assert total.inspections == 5 and total.amount == 30000
    by_cat = {r.key: r for r in services.statistics(2022, "category")}
    assert by_cat["hc_use"].label == "危险化学品使用"


def test_district_staff_see_only_their_district(w):
    services.draw_annual(w["plan"], w["handler"])
    tianhe = f.user("tianhe", role="district_staff", region=w["regions"][f.TIANHE])
    seen = services.visible_inspections(tianhe)
    assert seen.count() == 4 and {i.district_id for i in seen} == {f.TIANHE}
    assert services.visible_inspections(w["boss"]).count() == 5
    rows = services.statistics(2022, "district", tianhe)
    assert [r.key for r in rows] == [f.TIANHE]


def test_inspection_after_a_certificate_lapsed_is_refused(w):
    insp = _inspection(w)
    officer = insp.inspectors.first()
    officer.certificate_valid_to = insp.window_end
    officer.save()
    with pytest.raises(ValidationError, match="执法证在 .* 无效"):
        services.record_inspection(
            insp, w["handler"], inspected_on=insp.window_end + dt.timedelta(days=1)
        )
    services.record_inspection(insp, w["handler"], inspected_on=insp.window_end)


def test_case_numbers_follow_the_bureaus_prefix(w, settings):
    settings.YINGJI_ENFORCEMENT_CASE_PREFIX = "穗应急罚"
    case = _case(w)
    assert case.number == "穗应急罚〔2022〕0001号"


def test_register_reads_weights_from_risk_and_complaints(w):
    from yingji.enforcement.models import Complaint
    from yingji.risk.services import create_hazard

    a, b, c = w["enterprises"][:3]
    create_hazard(
        a,
        description="储罐区无监控",
        source="regulator_inspection",
        level="major",
        found_on=dt.date(2021, 11, 1),
    )
    closed = create_hazard(
        b,
        description="已整改",
        source="regulator_inspection",
        level="major",
        found_on=dt.date(2021, 5, 1),
    )
    Hazard.objects.filter(pk=closed.pk).update(state="closed")
    Complaint.objects.create(enterprise=c, received_on=dt.date(2021, 6, 1), summary="举报")
    Complaint.objects.create(enterprise=c, received_on=dt.date(2020, 6, 1), summary="太早")
    c.has_major_hazard_installation = True
    c.save()
    entities = {e.id: e for e in services.entity_register(dt.date(2022, 1, 1))[0]}
    assert entities[a.credit_code].open_major_hazards == 1
    assert entities[b.credit_code].open_major_hazards == 0
    assert (
        entities[c.credit_code].complaints == 1
        and entities[c.credit_code].major_hazard_installation
    )
    assert entities[c.credit_code].category == "hc_use"


def test_plan_workload_cap_reaches_the_draw(w):
    plan = services.create_plan(
        w["handler"],
        year=2022,
        title="上限",
        department=w["zhifa"],
        default_proportion=0.1,
        max_per_inspector=3,
    )
    services.announce_seed_source(plan, "双色球 2022003 期", w["handler"])
    services.fix_seed(plan, "07 08 09", w["handler"])
    record = services.draw_annual(plan, w["handler"])
    assert record.inputs["parameters"]["max_per_inspector"] == 3
    loads = Counter(
        i.certificate_number for insp in record.inspections.all() for i in insp.inspectors.all()
    )
    assert max(loads.values()) <= 3 and services.verify_draw(record).ok
    with pytest.raises(ValidationError, match="上限至少为 1"):
        services.create_plan(
            w["handler"], year=2022, title="x", department=w["zhifa"], max_per_inspector=0
        )


def test_salt_is_committed_with_the_source_and_mixed_into_each_draw(w):
    import hashlib

    plan = w["plan"]
    assert len(plan.seed_salt) == 32
    assert plan.seed_salt_sha256 == hashlib.sha256(plan.seed_salt.encode()).hexdigest()
    record = services.draw_annual(plan, w["handler"])
    assert record.seed == services.drawing.derive_seed(plan.seed, "年度抽取", plan.seed_salt)
    assert record.inputs["plan_seed"]["salt_sha256"] == plan.seed_salt_sha256
    record.inputs["plan_seed"]["salt"] = "0" * 32  # a salt swapped after the fact
    record.inputs_sha256 = services.drawing.sha256_json(record.inputs)
    check = services.verify_draw(record)
    assert not check.ok and not check.inputs_ok
