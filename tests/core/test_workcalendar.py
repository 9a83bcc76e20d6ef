import datetime as dt

import pytest

from yingji.core import workcalendar as wc


def test_national_day_week_is_not_working_days():
    # 2022-09-30 (Fri) + 1 working day skips the whole National Day break and
    # lands on 2022-10-08, a Saturday made a working day in lieu.
    assert wc.add_workdays(dt.date(2022, 9, 30), 1) == dt.date(2022, 10, 8)


def test_workdays_between_counts_only_working_days():
    assert wc.workdays_between(dt.date(2022, 9, 29), dt.date(2022, 10, 10)) == 4
    assert wc.workdays_between(dt.date(2022, 10, 10), dt.date(2022, 9, 29)) == -4


def test_negative_workdays_go_back():
    assert wc.add_workdays(dt.date(2022, 10, 10), -2) == dt.date(2022, 10, 8)


def test_beyond_calendar_data_is_an_error_not_a_guess():
    last = wc.covered_years().stop - 1
    with pytest.raises(wc.CalendarRangeError, match=str(last + 1)):
        wc.add_workdays(dt.date(last, 12, 30), 5)


def test_key_periods_of_2022():
    periods = {p.name: p for p in wc.key_periods(2022)}
    assert periods["春节"].start == dt.date(2022, 1, 31)
    assert periods["国庆"].end == dt.date(2022, 10, 7)
    assert periods["七一"].start == dt.date(2022, 7, 1)
    assert {"清明", "端午", "中秋"} <= periods.keys()


def test_special_periods_join_key_periods():
    congress = wc.KeyPeriod("党的二十大", dt.date(2022, 10, 16), dt.date(2022, 10, 22))
    names = [p.name for p in wc.key_periods(2022, [congress])]
    assert names.index("国庆") < names.index("党的二十大")


def test_key_dates_as_documents_write_them():
    assert wc.key_period(2022, "清明节").name == "清明"
    assert wc.key_period(2022, "五一").start == dt.date(2022, 4, 30)
    assert wc.key_period(2022, "国庆节").end == dt.date(2022, 10, 7)
