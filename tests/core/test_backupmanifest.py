"""The backup manifest, names and pruning (pure: no database)."""

import datetime as dt
import io

import pytest

from yingji.core import backupmanifest as bm

AT = dt.datetime(2026, 12, 4, 2, 0, 0, tzinfo=dt.UTC)
SHA = "a" * 64


def manifest(**files):
    files = files or {"database/yingji.dump": (SHA, 10)}
    return bm.build(engine="postgresql", created_at=AT, tables={"core_region": 3}, files=files)


def test_names_carry_their_time_and_prune_keeps_the_newest():
    assert bm.name_for(AT) == "yingji-backup-20261204T020000Z.tar"
    assert bm.parse_name(bm.name_for(AT)) == AT
    # A local time is stored as UTC.
    beijing = dt.timezone(dt.timedelta(hours=8))
    assert bm.name_for(AT.astimezone(beijing)) == bm.name_for(AT)
    names = [bm.name_for(AT - dt.timedelta(days=d)) for d in (0, 3, 1, 2)]
    names += ["notes.txt", "yingji-backup-20261204T020000Z.tar.part"]
    assert bm.to_prune(names, 2) == [
        bm.name_for(AT - dt.timedelta(days=3)),
        bm.name_for(AT - dt.timedelta(days=2)),
    ]
    assert bm.to_prune(names, 14) == []
    with pytest.raises(bm.ManifestError, match="--keep"):
        bm.to_prune(names, 0)


def test_manifest_round_trip_and_what_it_records():
    m = manifest(**{"database/yingji.dump": (SHA, 10), "media/evidence/1.jpg": ("b" * 64, 5)})
    back = bm.loads(bm.dumps(m))
    assert back == m
    assert back["format"] == 1 and back["created_at"] == "2026-12-04T02:00:00Z"
    assert back["tables"] == {"core_region": 3}
    assert back["files"]["media/evidence/1.jpg"] == {"sha256": "b" * 64, "size": 5}


@pytest.mark.parametrize(
    "edit, words",
    [
        (lambda m: m.update(format=2), "格式版本「2」不受支持"),
        (lambda m: m.pop("tables"), "缺少字段「tables」"),
        (lambda m: m.update(engine="mysql"), "未知的数据库类型「mysql」"),
        (lambda m: m["tables"].update(core_region=-1), "表「core_region」的行数"),
        (lambda m: m["files"].update({"../etc/passwd": {"sha256": SHA, "size": 1}}), "不安全"),
        (
            lambda m: m["files"].update({"media/x": {"sha256": "xyz", "size": 1}}),
            "「media/x」的校验和无效",
        ),
        (lambda m: m["files"].pop("database/yingji.dump"), "缺少数据库文件"),
    ],
)
def test_a_manifest_that_cannot_be_trusted_is_refused_by_name(edit, words):
    m = manifest()
    edit(m)
    with pytest.raises(bm.ManifestError, match=words):
        bm.loads(bm.dumps(m), "b.tar/manifest.json")
    with pytest.raises(bm.ManifestError, match="不是有效的 JSON"):
        bm.loads(b"{not json", "b.tar/manifest.json")


def test_member_names_stay_inside_the_archive():
    for ok in ("manifest.json", "database/yingji.dump", "media/a/b.png", "config/secret-key"):
        assert bm.safe_member(ok)
    for bad in ("/etc/passwd", "media/../../x", "other/file", "media//x", "media\\x", ""):
        assert not bm.safe_member(bad)


def test_file_problems_name_missing_extra_and_changed_files():
    m = manifest(**{"database/yingji.dump": (SHA, 10), "media/a.jpg": ("b" * 64, 5)})
    assert (
        bm.file_problems(m, {"database/yingji.dump": (SHA, 10), "media/a.jpg": ("b" * 64, 5)}) == []
    )
    problems = bm.file_problems(
        m, {"database/yingji.dump": ("c" * 64, 10), "media/z.jpg": (SHA, 1)}
    )
    assert problems == [
        "缺少文件 media/a.jpg",
        "清单中没有的文件 media/z.jpg",
        "文件 database/yingji.dump 校验和不符(已损坏或被修改)",
    ]


def test_count_problems_table_by_table():
    assert bm.count_problems({"a": 1, "b": 2}, {"a": 1, "b": 2}) == []
    assert bm.count_problems({"a": 1, "b": 2}, {"a": 0, "c": 4}) == [
        "表 a:备份中 1 行,恢复后 0 行",
        "表 b:备份中 2 行,恢复后不存在",
        "表 c:备份中没有,恢复后有 4 行",
    ]


def test_sha256_stream():
    assert bm.sha256_stream(io.BytesIO(b"abc"), chunk=2) == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        3,
    )
