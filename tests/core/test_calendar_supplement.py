"""Years announced after the pinned chinesecalendar release come from a supplement
file (pure; no database)."""

import datetime as dt

import pytest

from yingji.core import workcalendar as wc

D = dt.date


@pytest.fixture
def supplement(tmp_path):
    path = tmp_path / "holidays.csv"
    path.write_text(
        "# 国务院办公厅关于2027年部分节假日安排的通知 (test data, not the real schedule)\n"
        "date,kind,name\n"
        "2027-01-01,holiday,元旦\n"
        "2027-02-05,放假,春节\n"
        "2027-02-06,workday,春节\n",
        encoding="utf-8",
    )
    yield path
    wc.load_supplement(None)  # back to the library's years only


def test_beyond_the_library_the_calendar_refuses_and_says_how_to_supplement():
    last = wc.covered_years().stop - 1
    with pytest.raises(wc.CalendarRangeError, match="YINGJI_HOLIDAYS_FILE"):
        wc.is_workday(D(last + 1, 3, 1))


def test_a_supplemented_year_counts_its_holidays_and_adjusted_workdays(supplement):
    if 2027 in wc.covered_years():
        pytest.fail("chinesecalendar now knows 2027: move this test to a later year")
    assert wc.load_supplement(supplement) == 3
    assert 2027 in wc.covered_years()
    assert not wc.is_workday(D(2027, 1, 1))  # 元旦, a Friday
    assert wc.is_workday(D(2027, 2, 6))  # a Saturday worked for 春节
    assert not wc.is_workday(D(2027, 2, 7))  # an ordinary Sunday
    assert wc.add_workdays(D(2026, 12, 31), 1) == D(2027, 1, 4)
    names = {p.name: (p.start, p.end) for p in wc.key_periods(2027)}
    assert names["元旦"] == (D(2027, 1, 1), D(2027, 1, 1))
    assert names["春节"] == (D(2027, 2, 5), D(2027, 2, 5))


def test_library_years_are_never_overridden(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("2026-03-02,holiday,春节\n", encoding="utf-8")  # an ordinary Monday
    try:
        assert wc.load_supplement(path) == 0
        assert wc.is_workday(D(2026, 3, 2))
    finally:
        wc.load_supplement(None)


def test_a_bad_file_names_file_line_and_field(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "date,kind,name\n2027-13-01,holiday,元旦\n2027-01-02,rest,元旦\n2027-01-03,holiday,\n",
        encoding="utf-8",
    )
    with pytest.raises(wc.SupplementError) as err:
        wc.read_supplement(path)
    text = str(err.value)
    assert "bad.csv:2: date「2027-13-01」" in text and "bad.csv:3: kind「rest」" in text
    assert "bad.csv:4: name 缺失" in text


def test_the_shipped_supplement_is_valid():
    from django.conf import settings

    holidays, workdays = wc.read_supplement(settings.YINGJI_HOLIDAYS_FILE)
    assert all(d.year not in range(2004, 2027) for d in [*holidays, *workdays])
