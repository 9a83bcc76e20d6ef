import datetime as dt

from yingji.core.workcalendar import workdays_between
from yingji.workplan.status import (
    MilestoneFact,
    PauseFact,
    ReportFact,
    Status,
    TaskFacts,
    derive,
)

D = dt.date
Q1 = MilestoneFact(1, "第一季度", D(2022, 3, 31))
Q2 = MilestoneFact(2, "第二季度", D(2022, 6, 30))


def status_on(facts, day):
    return derive(facts, day, workdays_between)


def test_no_report_before_any_deadline_is_not_started():
    got = status_on(TaskFacts([Q1, Q2]), D(2022, 2, 1))
    assert got.status is Status.NOT_STARTED
    assert "尚未报送" in got.reason and "第一季度" in got.reason


def test_a_report_makes_it_in_progress_with_the_percent_in_the_reason():
    got = status_on(TaskFacts([Q1, Q2], [ReportFact(D(2022, 2, 10), 30)]), D(2022, 2, 15))
    assert got.status is Status.IN_PROGRESS
    assert got.percent == 30 and "30%" in got.reason


def test_a_missed_milestone_is_late_counted_in_working_days():
    # Q1 due Thu 31 Mar 2022. After it: Fri 1 Apr, Sat 2 Apr (a working day in lieu),
    # the 清明 break 3-5 Apr, then Wed 6 Apr: 3 working days late on 6 Apr.
    facts = TaskFacts([Q1, Q2], [ReportFact(D(2022, 2, 10), 30)])
    assert status_on(facts, D(2022, 4, 1)).status is Status.LATE
    got = status_on(facts, D(2022, 4, 6))
    assert got.status is Status.LATE
    assert "已逾期 3 个工作日" in got.reason and "第一季度" in got.reason


def test_late_on_a_past_date_but_not_after_completion():
    done_q1 = MilestoneFact(1, "第一季度", D(2022, 3, 31), completed_on=D(2022, 4, 12))
    facts = TaskFacts([done_q1, Q2], [ReportFact(D(2022, 4, 12), 50)])
    assert status_on(facts, D(2022, 4, 8)).status is Status.LATE  # as it stood then
    assert status_on(facts, D(2022, 4, 13)).status is Status.IN_PROGRESS


def test_everything_completed_is_done():
    ms = [MilestoneFact(1, "完成时限", D(2022, 6, 30), completed_on=D(2022, 6, 20))]
    got = status_on(TaskFacts(ms, [ReportFact(D(2022, 6, 20), 100)]), D(2022, 7, 1))
    assert got.status is Status.DONE and got.percent == 100


def test_an_approved_pause_wins_and_shows_its_reason_until_lifted():
    pause = PauseFact(D(2022, 3, 1), D(2022, 5, 1), "疫情防控需要")
    facts = TaskFacts([Q1, Q2], [], [pause])
    assert status_on(facts, D(2022, 4, 10)).status is Status.PAUSED
    assert "疫情防控需要" in status_on(facts, D(2022, 4, 10)).reason
    assert status_on(facts, D(2022, 5, 5)).status is Status.LATE


def test_beyond_the_calendar_lateness_is_in_calendar_days_and_says_so():
    last = __import__("yingji.core.workcalendar", fromlist=["x"]).covered_years().stop - 1
    ms = [MilestoneFact(1, "完成时限", D(last, 12, 31))]
    got = status_on(TaskFacts(ms), D(last + 1, 1, 10))
    assert got.status is Status.LATE
    assert "已逾期 10 天" in got.reason and "按自然日计" in got.reason
