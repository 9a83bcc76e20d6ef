"""The quarterly report's and the dashboard's hazard figures (one grouped pass
over the ledger each) agree with a direct count of the register, for the whole
city and for a district's scope, as hazards move through the workflow."""

import datetime as dt

from yingji.risk import creditcode, reports, services, stats
from yingji.risk.models import Hazard

DEADLINE_STATES = {"reported", "assigned", "rectifying", "rejected"}


def direct(hazards, start, end):
    """The figures by their definitions, counted row by row."""
    new = [h for h in hazards if start <= h.found_on <= end]
    open_ = [h for h in hazards if h.found_on <= end and (h.closed_on is None or h.closed_on > end)]
    return {
        "new": len(new),
        "new_major": sum(h.level == "major" for h in new),
        "closed": sum(h.closed_on is not None and h.closed_on <= end for h in new),
        "open": len(open_),
        "overdue": sum(
            h.deadline is not None and h.deadline < end and h.state in DEADLINE_STATES
            for h in open_
        ),
    }


def check_dashboard(as_of):
    board = stats.overview(as_of)
    hazards = list(Hazard.objects.all())
    assert {s["state"]: s["count"] for s in board["hazard_states"]} == {
        s: sum(h.state == s for h in hazards) for s in {s["state"] for s in board["hazard_states"]}
    }
    assert board["overdue"] == sum(
        h.state in DEADLINE_STATES and h.deadline is not None and h.deadline < as_of
        for h in hazards
    )
    assert board["open_major"] == sum(h.level == "major" and h.state != "closed" for h in hazards)
    assert board["open_hazards"] == sum(h.state != "closed" for h in hazards)
    return board


def check(year, quarter, user=None, districts=None):
    data = reports.quarterly_data(year, quarter, user=user)
    hazards = list(Hazard.objects.all() if user is None else services.visible_hazards(user))
    for key, (y, q) in {
        "hazards": (year, quarter),
        "hazards_prev": reports.previous_quarter(year, quarter),
        "hazards_last_year": (year - 1, quarter),
    }.items():
        expected = direct(hazards, *reports.quarter_bounds(y, q))
        assert {k: data[key][k] for k in expected} == expected, key
    start, end = reports.quarter_bounds(year, quarter)
    for row in data["by_district"]:
        mine = [h for h in hazards if h.district and h.district.name == row["district"]]
        figures = direct(mine, start, end)
        assert (row["new"], row["open"], row["overdue"]) == (
            figures["new"],
            figures["open"],
            figures["overdue"],
        ), row
    assert sum(r["total"] for r in data["matrix"]) == data["hazards"]["new"]
    if districts is not None:
        assert {r["district"] for r in data["by_district"]} == districts
    return data


def test_report_figures_match_a_direct_count_across_state_changes(chem, people):
    builder = services.save_enterprise(
        credit_code=creditcode.make("91440105", 2),
        name="海珠建筑公司",
        industry_code="4710",
        lon=113.32,
        lat=23.09,
    )
    boss = people["supervisor"]
    found = [
        dt.date(2024, 5, 6),
        dt.date(2025, 2, 10),
        dt.date(2025, 3, 3),
        dt.date(2025, 4, 8),
        dt.date(2025, 5, 19),
        dt.date(2025, 6, 2),
    ]
    hazards = []
    for i, day in enumerate(found):
        for firm, level in ((chem, "major" if i in (0, 5) else "general"), (builder, "general")):
            hazards.append(
                services.create_hazard(
                    firm,
                    description=f"隐患{i}",
                    source="self_inspection",
                    level=level,
                    found_on=day,
                )
            )
    data = check(2025, 2, districts={"天河区", "海珠区"})
    assert data["hazards"]["new"] == 6 and data["hazards"]["overdue"] == 0

    # Assign everything (deadlines pass inside the quarter), then close some on the way.
    for h in hazards:
        services.transition(
            h, "assign", boss, on=h.found_on, deadline=h.found_on + dt.timedelta(days=20)
        )
    check(2025, 2)
    assert check_dashboard(dt.date(2025, 5, 1))["overdue"] > 0
    for h in hazards[2:8]:
        services.transition(h, "start", boss, on=h.found_on + dt.timedelta(days=1))
    for h, action_day in (
        (hazards[2], dt.date(2025, 4, 1)),
        (hazards[4], dt.date(2025, 4, 20)),
        (hazards[6], dt.date(2025, 6, 20)),
        (hazards[7], dt.date(2025, 7, 2)),
    ):
        services.transition(h, "submit", boss, comment="已整改", on=action_day)
        services.transition(h, "accept", boss, on=action_day)
        services.transition(h, "close", boss, on=action_day)
    services.transition(hazards[3], "submit", boss, comment="已整改", on=dt.date(2025, 5, 1))
    services.transition(hazards[3], "reject", boss, comment="未整改到位", on=dt.date(2025, 5, 2))
    data = check(2025, 2)
    assert data["hazards"]["closed"] == 1 and data["hazards"]["overdue"] > 0
    check(2025, 3)
    check(2026, 1)
    check_dashboard(dt.date(2025, 6, 1))
    # A district's staff see their district's figures only.
    check(2025, 2, user=people["tianhe"], districts={"天河区"})


def test_a_running_quarter_is_reported_to_date_and_agrees_with_the_dashboard(chem, people):
    """The bug seen on 2 December: the Q4 report said 截至12月31日 and compared 11
    months with last year's full year. For any day, the report's figures to date,
    the dashboard's and the API's are one definition."""
    from django.test import Client

    boss = people["supervisor"]
    days = [
        dt.date(2024, 11, 5),
        dt.date(2024, 12, 20),
        dt.date(2025, 10, 8),
        dt.date(2025, 11, 18),
        dt.date(2025, 12, 10),
    ]
    for i, day in enumerate(days):
        h = services.create_hazard(
            chem, description=f"隐患{i}", source="self_inspection", level="general", found_on=day
        )
        services.transition(h, "assign", boss, on=day, deadline=day + dt.timedelta(days=10))
    for today in (
        dt.date(2025, 10, 1),
        dt.date(2025, 11, 20),
        dt.date(2025, 12, 2),
        dt.date(2025, 12, 31),
    ):
        data = reports.quarterly_data(2025, 4, today=today)
        assert data["end"] == today and data["partial"] == (today < dt.date(2025, 12, 31))
        board = stats.overview(today)
        assert data["hazards"]["overdue"] == board["overdue"], today
        assert data["decrease"]["accidents"] == board["decrease"]["accidents"]
        assert data["decrease"]["as_of"] == today
        # Like for like: last year's same quarter up to the same day.
        assert data["hazards_last_year"]["new"] == sum(
            dt.date(2024, 10, 1) <= d <= today.replace(year=2024) for d in days
        )
        text = "".join(reports.narrative(data))
        assert f"截至{today:%Y年%m月%d日}" in text
    try:
        reports.quarterly_data(2026, 1, today=dt.date(2025, 12, 2))
    except ValueError as exc:
        assert "尚未开始" in str(exc)
    else:
        raise AssertionError("a quarter not yet begun must be refused")
    client = Client()
    client.force_login(boss)
    future = client.get("/api/v1/risk/reports/quarterly?year=2099&quarter=1")
    assert future.status_code == 422 and "尚未开始" in future.content.decode("unicode_escape")
