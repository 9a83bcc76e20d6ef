"""The binary COPY encoding of readings (pure, no database)."""

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yingji.monitoring import pgcopy


def test_one_reading_is_laid_out_as_postgresql_reads_it():
    body = pgcopy.readings([7], [1_751_328_000_000], [1.25])
    assert body == struct.pack("!hiqiqid", 3, 8, 7, 8, 1_751_328_000_000, 8, 1.25)
    assert pgcopy.HEADER == b"PGCOPY\n\xff\r\n\x00" + b"\0" * 8
    assert pgcopy.TRAILER == b"\xff\xff"


@given(
    st.lists(
        st.tuples(
            st.integers(1, 2**62),
            st.integers(0, 253_402_300_799_999),
            st.floats(allow_nan=False, allow_infinity=False),
        ),
        max_size=50,
    )
)
def test_batches_round_trip(rows):
    half = len(rows) // 2
    parts = [
        pgcopy.readings(*zip(*b, strict=True)) if b else b"" for b in (rows[:half], rows[half:])
    ]
    assert pgcopy.decode(pgcopy.HEADER + b"".join(parts) + pgcopy.TRAILER) == rows


def test_columns_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="differ in length"):
        pgcopy.readings([1, 2], [3], [4.0])
