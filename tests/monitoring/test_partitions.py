"""Partitioned ingest (pure): every key belongs to exactly one partition, specs
are checked with a clear message."""

import pytest

from yingji.monitoring.partitions import Partition, PartitionError, sensor_key


def test_every_key_has_exactly_one_owner_and_the_split_is_even():
    parts = [Partition(i, 4) for i in range(4)]
    keys = [f"4401{d:02d}{s:03d}" for d in range(1, 12) for s in range(1, 40)]
    owners = [[p.index for p in parts if p.owns(k)] for k in keys]
    assert all(len(o) == 1 for o in owners)
    counts = [sum(o == [i] for o in owners) for i in range(4)]
    assert min(counts) > len(keys) / 4 * 0.7  # no partition starved
    assert all(Partition().owns(k) for k in keys)  # the whole stream owns everything


def test_one_partition_keeps_a_bad_message():
    parts = [Partition(i, 3) for i in range(3)]
    for payload in (b"{not json", b"[1,2", b'{"ts": 1, "value": NaN}'):
        assert sum(p.owns_message("yingji/v1/batch", payload) for p in parts) == 1


def test_sensor_key_street_then_district_then_code():
    assert sensor_key("RG-1", "440106001", "440106") == "440106001"
    assert sensor_key("RG-1", None, "440106") == "440106"
    assert sensor_key("RG-1", None, None) == "RG-1"


@pytest.mark.parametrize("spec", ["2", "a/b", "2/2", "0/0", "-1/2", "1/"])
def test_bad_specs_name_the_problem(spec):
    with pytest.raises(PartitionError, match="分区"):
        Partition.parse(spec)


def test_specs_and_group_names():
    assert Partition.parse("") == Partition() and Partition().group("yingji") == "yingji"
    p = Partition.parse(" 1/4 ")
    assert (p.index, p.count, str(p)) == (1, 4, "1/4")
    assert p.group("yingji") == "yingji.p1of4"


def test_ingest_command_refuses_a_bad_partition_before_connecting():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="--partition.*i/N"):
        call_command("ingest", "--partition", "3/2", "--port", "1")
