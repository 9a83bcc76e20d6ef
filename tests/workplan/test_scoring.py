import datetime as dt

from yingji.core.workcalendar import add_workdays
from yingji.workplan.scoring import TaskScoreFacts, month_deadlines, score_departments

D = dt.date
W = {"on_time": 0.5, "completeness": 0.3, "punctuality": 0.2}


def test_month_deadlines_use_the_nth_working_day_of_next_month():
    months = month_deadlines(D(2022, 1, 1), D(2022, 3, 1), 5, add_workdays)
    # January's deadline: 5th working day of February 2022 (after the Spring Festival
    # break ends on 6 Feb, which is itself a lieu working day? no: 1-6 Feb are off).
    assert months[0][0] == D(2022, 1, 1)
    assert months[0][2] == D(2022, 2, 11)
    assert len(months) == 1  # February's deadline (in March) has not passed by 1 March


def test_on_time_department_outscores_late_one():
    tasks = {
        1: TaskScoreFacts(
            1,
            D(2022, 1, 1),
            D(2022, 6, 30),
            [(D(2022, 3, 31), D(2022, 3, 30)), (D(2022, 6, 30), None)],
            50,
            None,
        ),
        2: TaskScoreFacts(
            2,
            D(2022, 1, 1),
            D(2022, 6, 30),
            [(D(2022, 3, 31), D(2022, 4, 20)), (D(2022, 6, 30), None)],
            20,
            None,
        ),
    }
    day = D(2022, 5, 1)
    months = month_deadlines(D(2022, 1, 1), day, 5, add_workdays)
    reports = {
        ("A", 1): [D(2022, 1, 20), D(2022, 2, 20), D(2022, 3, 20)],
        ("B", 2): [D(2022, 3, 1)],
    }
    scores = score_departments(day, tasks, {"A": [1], "B": [2]}, {}, reports, W, months)
    assert [s.department for s in scores] == ["A", "B"]
    a, b = scores
    assert a.on_time == 1.0 and b.on_time == 0.0
    assert a.punctuality == 1.0 and b.punctuality < 0.5
    assert a.score > b.score


def test_weights_are_configurable():
    tasks = {
        1: TaskScoreFacts(1, D(2022, 1, 1), D(2022, 12, 31), [(D(2022, 3, 31), None)], 90, None)
    }
    day = D(2022, 4, 15)
    months = month_deadlines(D(2022, 1, 1), day, 5, add_workdays)
    only_completeness = score_departments(
        day, tasks, {"A": [1]}, {}, {}, {"completeness": 1}, months
    )[0]
    only_on_time = score_departments(day, tasks, {"A": [1]}, {}, {}, {"on_time": 1}, months)[0]
    assert only_completeness.score == 100.0
    assert only_on_time.score == 0.0


def test_nothing_to_judge_gives_no_score():
    tasks = {
        1: TaskScoreFacts(1, D(2022, 1, 1), D(2022, 12, 31), [(D(2022, 12, 31), None)], 0, None)
    }
    s = score_departments(D(2022, 1, 1), tasks, {"A": [1]}, {}, {}, W, [])[0]
    assert s.score is None
