"""The workbench registry (pure: no database): merging, ordering, counts, a
failing source."""

import datetime as dt

import pytest

from yingji.core import workbench
from yingji.core.workbench import NORMAL, OVERDUE, SOON, URGENT, Context, Item

NOW = dt.datetime(2022, 6, 15, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setattr(workbench, "_sources", {})
    monkeypatch.setattr(workbench, "_figures", {})
    return workbench


def ctx(**kw):
    return Context(user=None, scope=None, now=NOW, **kw)


def test_by_deadline_counts_overdue_and_soon_the_same_way_for_every_module():
    assert workbench.by_deadline(None, NOW) == NORMAL
    assert workbench.by_deadline(dt.date(2022, 6, 14), NOW) == OVERDUE
    assert workbench.by_deadline(dt.date(2022, 6, 15), NOW) == SOON  # due today
    assert workbench.by_deadline(dt.date(2022, 6, 18), NOW) == SOON
    assert workbench.by_deadline(dt.date(2022, 6, 19), NOW) == NORMAL
    assert workbench.by_deadline(NOW - dt.timedelta(minutes=1), NOW) == OVERDUE
    assert workbench.by_deadline(NOW + dt.timedelta(hours=2), NOW) == SOON


def test_items_of_every_source_merge_most_urgent_first_then_by_deadline(registry):
    registry.register(
        "a.tasks",
        "待填报任务",
        group="supervision",
        items=lambda c: [
            Item("待填报任务", "任务 9", "/t/9", deadline=dt.date(2022, 6, 30)),
            Item("待填报任务", "任务 3", "/t/3", deadline=dt.date(2022, 6, 1), urgency=OVERDUE),
        ],
    )
    registry.register(
        "b.cards",
        "待签收行动卡",
        group="command",
        items=lambda c: [
            Item(
                "待签收行动卡", "卡 2", "/c/2", deadline=NOW + dt.timedelta(hours=1), urgency=URGENT
            ),
            Item("待签收行动卡", "卡 1", "/c/1", deadline=NOW, urgency=URGENT),
            Item("待签收行动卡", "卡 0", "/c/0", urgency=URGENT),
        ],
    )
    got = registry.collect(ctx())
    assert [i.title for i in got.items] == ["卡 1", "卡 2", "卡 0", "任务 3", "任务 9"]
    assert got.counts == {"a.tasks": 2, "b.cards": 3}
    assert got.by_group() == {"supervision": 2, "command": 3}
    assert got.items[0].group == "command" and got.items[0].source == "b.cards"
    assert got.total == 5


def test_a_source_over_the_limit_is_cut_but_counted_in_full(registry):
    registry.register(
        "many",
        "很多",
        group="risk",
        items=lambda c: (Item("隐患", f"h{n}", f"/h/{n}") for n in range(10_000)),
        count=lambda c: 10_000,
    )
    got = registry.collect(ctx(limit=50))
    assert len(got.items) == 50
    assert got.counts["many"] == 10_000
    assert registry.count(ctx()).counts == {"many": 10_000}


def test_a_failing_source_is_named_and_the_rest_still_shows(registry):
    def broken(c):
        raise RuntimeError("表不存在")

    registry.register("broken", "坏来源", group="risk", items=broken)
    registry.register("ok", "好来源", group="risk", items=lambda c: [Item("好", "一项", "/x")])
    got = registry.collect(ctx())
    assert [i.title for i in got.items] == ["一项"]
    assert got.errors and "坏来源" in got.errors[0] and "表不存在" in got.errors[0]


def test_figures_in_order(registry):
    registry.register_figures("b", lambda c: [workbench.Figure("在发预警", "2")], order=20)
    registry.register_figures("a", lambda c: [workbench.Figure("未结事件", "1")], order=10)
    figures, errors = registry.figures(ctx())
    assert [f.title for f in figures] == ["未结事件", "在发预警"]
    assert errors == []


def test_the_day_is_the_local_one_not_utcs():
    # 01:00 in Guangzhou on 16 June is 17:00 UTC on 15 June: a task due on the
    # 15th is overdue there, and sorts before a timed item due at 02:00 local.
    from zoneinfo import ZoneInfo

    cst = ZoneInfo("Asia/Shanghai")
    local_now = dt.datetime(2022, 6, 16, 1, 0, tzinfo=cst)
    assert workbench.by_deadline(dt.date(2022, 6, 15), local_now) == OVERDUE
    due_15th = Item("任务", "15日到期", "/a", deadline=dt.date(2022, 6, 15))
    at_2am = Item("卡", "2点到期", "/b", deadline=dt.datetime(2022, 6, 16, 2, tzinfo=cst))
    ordered = sorted([at_2am, due_15th], key=lambda i: workbench.sort_key(i, cst))
    assert [i.title for i in ordered] == ["15日到期", "2点到期"]
    # A deadline read from the database is in UTC: 20:00 UTC on the 15th is 04:00 on
    # the 16th in Guangzhou, three hours ahead of local_now: due soon, not overdue.
    from_db = dt.datetime(2022, 6, 15, 20, 0, tzinfo=dt.UTC)
    assert workbench.by_deadline(from_db, local_now) == SOON
