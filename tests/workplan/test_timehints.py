def test_chinese_numerals_round_trip():
    from yingji.workplan.timehints import cn_number, cn_numeral

    assert [cn_numeral(n) for n in (1, 10, 12, 20, 99)] == ["一", "十", "十二", "二十", "九十九"]
    assert all(cn_number(cn_numeral(n)) == n for n in range(1, 100))
