"""The side menu (core/nav.py), the badges and the search page, as users see them."""

import pytest
from django.test import Client

from tests.workplan.factories import user
from yingji.core import nav, search, workbench
from yingji.core.models import Role

pytestmark = pytest.mark.django_db


def _client(u):
    c = Client()
    c.force_login(u)
    return c


def _titles(groups):
    return {g["title"]: [e["title"] for e in g["entries"]] for g in groups}


def test_the_menu_is_grouped_and_shows_only_what_the_role_may_open():
    staff = user("staff")
    leader = user("boss", role=Role.LEADER)
    duty = user("duty", role=Role.DUTY_OFFICER)
    admin = user("root", role=Role.ADMIN)
    admin.is_staff = True
    admin.save()

    menu = _titles(nav.groups_for(staff))
    assert list(menu)[:2] == ["综合", "督查督办"]  # the bureau's order
    assert "本部门任务" in menu["督查督办"]
    assert "我的行动卡" in menu["指挥调度"] and "值班台" not in menu["指挥调度"]
    assert "系统管理" not in menu

    menu = _titles(nav.groups_for(leader))
    assert "本部门任务" not in menu["督查督办"]  # a leader owns no tasks
    assert "值班台" in menu["指挥调度"] and "我的行动卡" not in menu["指挥调度"]

    assert "值班台" in _titles(nav.groups_for(duty))["指挥调度"]
    assert _titles(nav.groups_for(admin))["系统管理"] == ["账号安全", "投递渠道", "管理后台"]


def test_the_current_page_is_marked_in_its_group():
    staff = user("staff")
    groups = nav.groups_for(staff, "/risk/hazards/12/")
    current = [(g["title"], e["title"]) for g in groups for e in g["entries"] if e["current"]]
    assert current == [("风险防控", "隐患台账")]
    assert [g["title"] for g in groups if g["current"]] == ["风险防控"]
    home = [e for g in nav.groups_for(staff, "/") for e in g["entries"] if e["current"]]
    assert [e["title"] for e in home] == ["工作台"]


def test_every_page_carries_the_menu_and_the_search_box():
    page = _client(user("staff")).get("/risk/hazards/").content.decode()
    assert 'class="sidenav"' in page and "隐患台账" in page
    assert 'role="search"' in page and 'name="q"' in page
    assert 'aria-current="page">隐患台账' in page


def test_badges_count_what_waits_per_group(monkeypatch):
    monkeypatch.setattr(workbench, "_sources", {})
    workbench.register(
        "t.cards",
        "待签收行动卡",
        group="command",
        items=lambda c: [workbench.Item("待签收行动卡", f"卡{n}", "/") for n in range(3)],
    )
    body = _client(user("staff")).get("/workbench/badges/").content.decode()
    assert 'id="badge-command" hx-swap-oob="true" title="待办 3 项">3</span>' in body
    assert 'id="badge-risk"' in body and "hidden" in body.split('id="badge-risk"')[1][:80]


def test_search_page_shows_each_kind_and_limits_input(monkeypatch):
    monkeypatch.setattr(search, "_kinds", {})
    seen = []

    def find(scope, q, limit):
        seen.append((q, limit))
        if "隐患" not in q:
            return []
        return [search.Hit(f"天河隐患{n}", f"/risk/hazards/{n}/", code=f"YH{n}") for n in range(20)]

    search.register("hazard", "隐患", find)
    c = _client(user("staff"))
    page = c.get("/search/", {"q": "  天河  隐患 "}).content.decode()
    assert seen[-1] == ("天河 隐患", search.PER_KIND + 1)
    hits = page.split('<ul class="hits">')[1].split("</ul>")[0]
    assert hits.count('href="/risk/hazards/') == search.PER_KIND
    assert "只显示前 8 条" in page
    assert "请至少输入 2 个字" in c.get("/search/", {"q": "天"}).content.decode()
    c.get("/search/", {"q": "长" * 5000})
    assert len(seen[-1][0]) == search.MAX_QUERY
    assert "没有找到与「无此物」相符的记录" in c.get("/search/", {"q": "无此物"}).content.decode()
    assert len(seen) == 3  # the one-character query never reached a finder


def test_the_workbench_is_most_urgent_first_with_deadline_and_action(monkeypatch):
    import datetime as dt

    monkeypatch.setattr(workbench, "_sources", {})
    workbench.register(
        "t.mixed",
        "混合",
        group="risk",
        items=lambda c: [
            workbench.Item(
                "待整改隐患", "普通隐患", "/a/", action="整改", deadline=dt.date(2099, 1, 1)
            ),
            workbench.Item(
                "待整改隐患",
                "逾期隐患",
                "/b/",
                action="整改",
                deadline=dt.date(2020, 1, 1),
                urgency=workbench.OVERDUE,
            ),
        ],
    )
    page = _client(user("staff")).get("/").content.decode()
    assert page.index("逾期隐患") < page.index("普通隐患")
    assert "期限 2020-01-01" in page and "已逾期" in page
    assert '<a class="button" href="/b/">整改</a>' in page
    assert '待办事项 <span class="count">2</span>' in page
