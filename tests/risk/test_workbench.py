"""Hazards on the workbench (工作台) and in the search box, as each user sees them
on 2025-03-10: the supervising department and the district (or street) their
hazards to assign, rectify, accept, close and re-check, overdue first; leaders
the hazards listed for supervision and the double-decrease figures; nobody the
hazards of another department or district."""

import datetime as dt

import pytest

from yingji.core.models import Region, Role
from yingji.risk import creditcode, services
from yingji.risk.models import Enterprise, Recheck

from ..core.workbench_page import figures, freeze, local, of, search_hits, worklist
from .conftest import make_user

D = dt.date
NOW = local(2025, 3, 10, 9, 30)


def _hazard(enterprise, description, found_on, **kw):
    return services.create_hazard(
        enterprise, description=description, source="self_inspection", found_on=found_on, **kw
    )


@pytest.fixture
def world(chem, people, gz, monkeypatch):
    """The 天河 chemical plant (危化处) with a hazard in each state, a second 天河
    plant in another street, a 海珠 builder with an overdue hazard, accidents in
    2024 and 2025."""
    weihua, tianhe = people["weihua"], people["tianhe"]
    street = Region.objects.get(code=chem.street_id)
    other_street = (
        Region.objects.filter(parent_id="440106", level="street").exclude(code=street.code).first()
    )
    people["street"] = make_user("street", Role.DISTRICT_STAFF, None, street)
    other = Enterprise.objects.create(
        credit_code=creditcode.make("91440106", 7),
        name="天河另一化工厂",
        industry_code="2614",
        district_id="440106",
        street=other_street,
        supervising_department=gz["weihua"],
    )
    builder = services.save_enterprise(
        credit_code=creditcode.make("91440105", 2),
        name="海珠建筑公司",
        industry_code="4710",
        lon=113.32,
        lat=23.09,
    )
    h = {}
    h["new"] = _hazard(chem, "消防通道堆放杂物", D(2025, 3, 7))
    h["overdue"] = _hazard(chem, "液氯储罐泄漏报警失灵", D(2025, 2, 10))
    services.transition(h["overdue"], "assign", weihua, deadline=D(2025, 2, 28), on=D(2025, 2, 10))
    services.transition(h["overdue"], "start", tianhe, on=D(2025, 2, 11))
    h["soon"] = _hazard(chem, "防爆电气线路老化", D(2025, 3, 3))
    services.transition(h["soon"], "assign", weihua, deadline=D(2025, 3, 12), on=D(2025, 3, 3))
    h["submitted"] = _hazard(chem, "安全阀未定期校验", D(2025, 3, 1))
    services.transition(h["submitted"], "assign", weihua, deadline=D(2025, 3, 20), on=D(2025, 3, 1))
    services.transition(h["submitted"], "start", tianhe, on=D(2025, 3, 1))
    services.transition(h["submitted"], "submit", tianhe, comment="已校验", on=D(2025, 3, 7))
    h["major"] = _hazard(chem, "重大危险源储罐区未设置紧急切断", D(2025, 1, 6), level="major")
    services.save_plan(
        h["major"],
        weihua,
        measures="加装紧急切断阀",
        funds="80万元",
        deadline=D(2025, 2, 20),
        responsible_person="张工",
        contingency_plan="停用储罐,设警戒区",
    )
    services.list_for_supervision(h["major"], weihua, on=D(2025, 1, 8))
    for action, who, day in (("assign", weihua, 8), ("start", weihua, 9), ("submit", weihua, 20)):
        services.transition(h["major"], action, who, comment="已整改", on=D(2025, 1, day))
    h["closed"] = _hazard(chem, "静电接地线断开", D(2025, 1, 6))
    for action, day in (("assign", 6), ("start", 6), ("submit", 7), ("accept", 8), ("close", 8)):
        services.transition(h["closed"], action, weihua, comment="已整改", on=D(2025, 1, day))
    h["other_street"] = _hazard(other, "装卸区未设防撞设施", D(2025, 3, 3))
    h["haizhu"] = _hazard(builder, "脚手架缺防护", D(2025, 2, 1))
    services.transition(h["haizhu"], "assign", people["supervisor"], deadline=D(2025, 2, 14))
    for year, deaths in ((2024, [1]), (2025, [2, 1])):
        for i, d in enumerate(deaths):
            services.save_accident(
                code=f"SG{year}-{i}",
                occurred_at=local(year, 2, 10 + i, 9),
                accident_type="fall",
                deaths=d,
                enterprise=chem,
            )
    services.save_accident(  # after 10 March: not in last year's same period
        code="SG2024-9", occurred_at=local(2024, 6, 1, 9), accident_type="fall", deaths=4
    )
    freeze(monkeypatch, NOW)
    return {"chem": chem, "other": other, "builder": builder, "h": h, "street": street}


def _codes(items, world):
    names = {v.code: k for k, v in world["h"].items()}
    return [names[i.title.split()[0]] for i in items]


def _opens(client, items):
    for item in items:
        assert client.get(item.url).status_code == 200, item


def test_the_department_sees_its_hazards_overdue_first(client, world, people):
    client.force_login(people["weihua"])
    items = of(worklist(client), "risk.")
    # 回头看 due 02-11 (20 working days after closing on 01-08, 春节 off), rectification
    # due 02-28, acceptance due 02-20 + 10 days; then due soon; then the rest.
    assert _codes(items, world) == [
        "closed",
        "overdue",
        "major",
        "soon",
        "submitted",
        "other_street",
        "new",
    ]
    shown = {name: item for name, item in zip(_codes(items, world), items, strict=True)}
    assert [(i.kind, i.urgency) for i in items[:4]] == [
        ("回头看到期", "已逾期"),
        ("待整改隐患", "已逾期"),
        ("待验收隐患", "已逾期"),
        ("待整改隐患", "即将到期"),
    ]
    overdue = shown["overdue"]
    assert overdue.deadline == "2025-02-28" and overdue.action == "提请验收"
    assert overdue.title.endswith("广州某化工有限公司:液氯储罐泄漏报警失灵")
    assert "整改中 · 天河区" in overdue.detail and "监管部门 危化处" in overdue.detail
    major = shown["major"]
    assert major.deadline == "2025-03-02" and major.action == "验收"
    assert "重大事故隐患" in major.detail and "挂牌督办(危化处)" in major.detail
    recheck = Recheck.objects.get(hazard=world["h"]["closed"])
    assert (
        shown["closed"].deadline == f"{recheck.due:%Y-%m-%d}" and shown["closed"].action == "复查"
    )
    assert (shown["soon"].urgency, shown["soon"].deadline) == ("即将到期", "2025-03-12")
    assert shown["submitted"].deadline == "2025-03-30"  # 03-20 + 10 days to accept
    assert (shown["new"].kind, shown["new"].deadline, shown["new"].action) == (
        "待交办隐患",
        "",
        "交办整改",
    )
    _opens(client, items)
    page = client.get(shown["closed"].url).content.decode()
    assert 'id="rechecks"' in page and "待复查" in page


def test_the_district_accepts_general_hazards_only(client, world, people):
    client.force_login(people["tianhe"])
    items = of(worklist(client), "risk.")
    names = _codes(items, world)
    # the major hazard's acceptance is its regulator's (危化处), not the district's
    assert "major" not in names and "haizhu" not in names
    assert names == ["closed", "overdue", "soon", "submitted", "other_street", "new"]
    _opens(client, items)


def test_a_street_sees_the_hazards_of_its_street_only(client, world, people):
    client.force_login(people["street"])
    names = _codes(of(worklist(client), "risk."), world)
    assert names == ["closed", "overdue", "soon", "submitted", "new"]


def test_another_district_and_department_see_only_their_own(client, world, people):
    client.force_login(people["haizhu"])
    items = of(worklist(client), "risk.")
    assert [(i.kind, i.urgency, i.deadline) for i in items] == [
        ("待整改隐患", "已逾期", "2025-02-14")
    ]
    assert "海珠建筑公司" in items[0].title and "海珠区" in items[0].detail
    _opens(client, items)
    client.force_login(people["jichu"])
    assert of(worklist(client), "risk.") == []


def test_leaders_see_listed_hazards_and_the_figures(client, world, people):
    client.force_login(people["supervisor"])
    items = of(worklist(client), "risk.")
    assert [(i.kind, i.urgency, i.action) for i in items] == [("挂牌督办隐患", "已逾期", "督办")]
    assert items[0].title.startswith(world["h"]["major"].code)
    _opens(client, items)
    shown = figures(client)
    assert shown["2025年事故起数"][:2] == ("2", "去年同期 1,上升 100%")
    assert shown["2025年死亡人数"][:2] == ("3", "去年同期 1,上升 200%")
    assert shown["超期未整改隐患"][0] == "2"  # 天河's 02-28 and 海珠's 02-14
    for _, _, url in shown.values():
        assert client.get(url).status_code == 200
    overdue_page = client.get(shown["超期未整改隐患"][2]).content.decode()
    assert (
        world["h"]["overdue"].code in overdue_page and world["h"]["soon"].code not in overdue_page
    )


def test_the_badge_counts_what_the_list_shows(client, world, people):
    from yingji.core import workbench
    from yingji.core.scope import scope_for
    from yingji.risk import workbench as risk_workbench

    ctx = workbench.Context(
        user=people["weihua"],
        scope=scope_for(people["weihua"]),
        now=NOW,
        profile=people["weihua"].profile,
    )
    for items, count in (
        (risk_workbench.rectify_items, risk_workbench.rectify_count),
        (risk_workbench.accept_items, risk_workbench.accept_count),
        (risk_workbench.recheck_items, risk_workbench.recheck_count),
    ):
        assert len(list(items(ctx))) == count(ctx) > 0
    client.force_login(people["weihua"])
    badges = client.get("/workbench/badges/").content.decode()
    assert 'id="badge-risk" hx-swap-oob="true" title="待办 7 项">7<' in badges


def test_search_finds_hazards_and_enterprises_within_scope(client, world, people):
    chem, builder = world["chem"], world["builder"]
    client.force_login(people["tianhe"])
    hits = search_hits(client, chem.credit_code.lower())
    assert [(c, t) for c, t, _ in hits["企业"]] == [(chem.credit_code, "广州某化工有限公司")]
    assert "海珠建筑公司" not in str(search_hits(client, "海珠建筑"))
    code = world["h"]["overdue"].code
    found = search_hits(client, code[:12])["隐患"]
    assert code in [c for c, _, _ in found]
    assert [t for _, t, _ in search_hits(client, "液氯储罐")["隐患"]] == ["液氯储罐泄漏报警失灵"]
    for group in search_hits(client, "化工").values():
        for _, _, url in group:
            assert client.get(url).status_code == 200
    client.force_login(people["haizhu"])
    assert [t for _, t, _ in search_hits(client, "海珠建筑")["企业"]] == ["海珠建筑公司"]
    assert search_hits(client, chem.credit_code) == {}
    client.force_login(people["street"])
    assert [t for _, t, _ in search_hits(client, "化工")["企业"]] == ["广州某化工有限公司"]
    assert builder.name not in str(search_hits(client, "公司"))
