"""The audit log's hash chain, pure (core/auditchain.py)."""

import datetime as dt
import json

from yingji.core import auditchain

AT = dt.datetime(2026, 5, 1, 8, 30, 0, 123456, tzinfo=dt.UTC)


def _entry(i: int, **changes) -> dict:
    row = {
        "id": i,
        "content_type_id": 7,
        "object_pk": str(i),
        "object_repr": f"隐患 {i}",
        "action": "update",
        "actor_label": "zonghe",
        "at": AT + dt.timedelta(seconds=i),
        "before": {"state": "open", "lat": 23.13},
        "after": {"state": "closed", "lat": 23.13, "deaths": 1.0},
        "changed_fields": ["state"],
    }
    row.update(changes)
    return row


def _chain(rows: list[dict]) -> list[dict]:
    prev = auditchain.GENESIS
    for row in rows:
        row["prev_hash"] = prev
        row["hash"] = prev = auditchain.digest(prev, row)
    return rows


def test_a_value_reads_back_to_the_same_hash_from_text_or_jsonb():
    row = _entry(1, after={"big": 1e20, "one": 1.0, "tenth": 0.1, "list": (1, 2)})
    # SQLite returns what json.dumps wrote; PostgreSQL's jsonb writes 1e20 as an
    # integer and reorders keys; both read back to the same hash.
    from_sqlite = json.loads(json.dumps(row["after"]))
    from_jsonb = {"tenth": 0.1, "one": 1.0, "list": [1, 2], "big": 100000000000000000000}
    h = auditchain.digest("0" * 64, row)
    assert auditchain.digest("0" * 64, {**row, "after": from_sqlite}) == h
    assert auditchain.digest("0" * 64, {**row, "after": from_jsonb}) == h
    # a different time zone for the same instant is the same entry
    local = row["at"].astimezone(dt.timezone(dt.timedelta(hours=8)))
    assert auditchain.digest("0" * 64, {**row, "at": local}) == h


def test_an_intact_chain_verifies_and_names_its_last_link():
    rows = _chain([_entry(i) for i in range(1, 6)])
    result = auditchain.verify(rows)
    assert result.broken is None and result.checked == 5
    assert (result.last_id, result.last_hash) == (5, rows[-1]["hash"])


def test_an_edited_entry_is_the_first_broken_link():
    rows = _chain([_entry(i) for i in range(1, 6)])
    rows[2]["after"] = {**rows[2]["after"], "deaths": 0}
    result = auditchain.verify(rows)
    assert result.broken.id == 3 and result.broken.reason == "content"
    assert "第 3 条" in result.broken.describe() and "修改" in result.broken.describe()


def test_a_deleted_entry_breaks_the_link_of_the_next_one():
    rows = _chain([_entry(i) for i in range(1, 6)])
    del rows[1]
    result = auditchain.verify(rows)
    assert result.broken.id == 3 and result.broken.reason == "link"


def test_a_rechained_log_fails_against_an_anchor_written_down_before():
    rows = _chain([_entry(i) for i in range(1, 6)])
    anchor = (4, rows[3]["hash"])
    rows[1]["actor_label"] = "someone-else"
    _chain(rows)  # the attacker recomputes every hash after the edit
    assert auditchain.verify(rows).broken is None
    result = auditchain.verify(rows, anchor=anchor)
    assert result.broken.id == 4 and result.broken.reason == "anchor"


def test_a_purged_log_starts_from_its_first_entry_prev_hash():
    rows = _chain([_entry(i) for i in range(1, 6)])[2:]
    result = auditchain.verify(rows)
    assert result.broken is None and result.first_id == 3
    assert result.start_hash == rows[0]["prev_hash"] != auditchain.GENESIS
