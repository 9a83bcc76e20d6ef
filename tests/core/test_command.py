"""The command screen's registry and update (pure: no database): versions, the
diff a screen applies, merged figures and timeline, modes, a failing feed, the
wire format."""

import datetime as dt
import json

import pytest

from yingji.core import command
from yingji.core.command import Context, Layer, SnapshotStore

NOW = dt.datetime(2024, 6, 10, 14, 0, tzinfo=dt.UTC)


@pytest.fixture
def registry(monkeypatch):
    monkeypatch.setattr(command, "_feeds", {})
    monkeypatch.setattr(command, "_drill_resolvers", [])
    return command


def ctx(drill=None):
    return Context(user=None, scope=None, now=NOW, drill=drill)


def event(i, level="red", **extra):
    return {"id": i, "pt": [113.36 + i / 1000, 23.12], "lv": level, "tx": f"事件{i}", **extra}


def apply_update(held, update):
    """What command.js does with an update: layers by apply_change, panels replaced."""
    out = dict(held)
    for key, change in update["f"].items():
        if "k" in change:
            before = out.get(key, {"v": None, "marks": {}})
            if "full" not in change and before["v"] != change["base"]:
                raise AssertionError("a diff against a version the screen does not hold")
            out[key] = {"v": change["v"], "marks": command.apply_change(before["marks"], change)}
        else:
            out[key] = {"v": change["v"], "data": change["data"]}
    return out


def versions(held):
    return {k: v["v"] for k, v in held.items()}


def test_register_refuses_unknown_kinds_and_keys_the_wire_cannot_carry(registry):
    with pytest.raises(ValueError):
        registry.register("x", "X", kind="map", build=lambda c: [])
    for key in ("", "a:b", "a,b", "_figures", "地图"):
        with pytest.raises(ValueError):
            registry.register(key, "X", kind=command.LAYER, build=lambda c: [])


def test_a_layers_version_depends_on_its_marks_not_their_order():
    a = Layer.of([event(1), event(2)])
    b = Layer.of([event(2), event(1)])
    c = Layer.of([event(1), event(2, level="orange")])
    assert a.version == b.version != c.version
    assert Layer.of({"items": [event(1)], "more": 3}).version != Layer.of([event(1)]).version


def test_marks_travel_as_rows_and_big_layers_ship_no_labels():
    small = Layer.of([event(i) for i in range(command.LABEL_LIMIT)])
    assert small.keys == ["id", "pt", "lv", "tx"]
    assert small.rows["3"] == [3, [113.363, 23.12], "red", "事件3"]
    big = Layer.of([event(i) for i in range(command.LABEL_LIMIT + 1)])
    assert "tx" not in big.keys  # too many to label on a screen
    with pytest.raises(ValueError):
        Layer.of([{"pt": [1, 2]}])


def test_a_screen_gets_only_what_changed_and_ends_up_with_the_new_layer():
    store = SnapshotStore()
    old = Layer.of([event(1), event(2), event(3)])
    first = command.layer_change("events", old, None, store)
    assert len(first["full"]) == 3 and first["k"] == ["id", "pt", "lv", "tx"]
    held = command.apply_change({}, first)
    assert command.layer_change("events", old, old.version, store) is None  # unchanged
    new = Layer.of([event(1), event(2, level="orange"), event(4)])
    diff = command.layer_change("events", new, old.version, store)
    assert diff["base"] == old.version and diff["v"] == new.version
    assert [r[0] for r in diff["put"]] == [2, 4]  # 2 rose, 4 is new; 1 is not resent
    assert diff["del"] == ["3"]
    after = command.apply_change(held, diff)
    assert after == {k: command.unpack(new.keys, r) for k, r in new.rows.items()}
    assert after["2"]["lv"] == "orange" and "3" not in after


def test_a_version_the_store_no_longer_holds_gets_the_whole_layer():
    store = SnapshotStore(entries=1)
    v1 = Layer.of([event(1)])
    command.layer_change("events", v1, None, store)
    command.layer_change("other", Layer.of([event(9)]), None, store)  # pushes v1 out
    change = command.layer_change("events", Layer.of([event(1), event(2)]), v1.version, store)
    assert "full" in change and len(change["full"]) == 2


def test_an_update_ships_nothing_when_nothing_changed(registry):
    marks = [event(1), event(2)]
    registry.register("events", "监测事件", kind=command.LAYER, build=lambda c: marks)
    registry.register(
        "duty", "值班", kind=command.PANEL, build=lambda c: {"rows": [{"t": "值班员", "v": "张三"}]}
    )
    registry.register("a.fig", "甲", kind=command.FIGURES, build=lambda c: [{"t": "事件", "v": 2}])
    store = SnapshotStore()
    first = command.build_update(ctx(), {}, store=store)
    assert set(first["f"]) == {"events", "duty", command.FIGURES_KEY, command.TIMELINE_KEY}
    held = apply_update({}, first)
    again = command.build_update(ctx(), versions(held), store=store)
    assert again["f"] == {} and again["err"] == []
    assert len(command.encode(again)) < 100
    marks[1] = event(2, level="blue")
    third = command.build_update(ctx(), versions(held), store=store)
    assert set(third["f"]) == {"events"}
    assert [r[0] for r in third["f"]["events"]["put"]] == [2]
    held = apply_update(held, third)
    assert held["events"]["marks"]["2"]["lv"] == "blue"


def test_figures_and_timelines_of_every_feed_merge_newest_first(registry, monkeypatch):
    monkeypatch.setattr(command, "TIMELINE_LIMIT", 3)
    registry.register("b.fig", "乙", kind=command.FIGURES, build=lambda c: [{"t": "预警", "v": 1}])
    registry.register(
        "a.fig", "甲", kind=command.FIGURES, build=lambda c: [{"t": "事件", "v": 2}], order=1
    )
    registry.register(
        "a.tl",
        "甲",
        kind=command.TIMELINE,
        build=lambda c: [{"at": 100, "t": "事件开始"}, {"at": 300, "t": "事件升级"}],
    )
    registry.register(
        "b.tl",
        "乙",
        kind=command.TIMELINE,
        build=lambda c: [{"at": 200, "t": "发布预警"}, {"at": 50, "t": "很早的事"}],
    )
    update = command.build_update(ctx(), {}, store=SnapshotStore())
    assert [f["t"] for f in update["f"][command.FIGURES_KEY]["data"]] == ["事件", "预警"]
    timeline = update["f"][command.TIMELINE_KEY]["data"]
    assert [e["t"] for e in timeline] == ["事件升级", "发布预警", "事件开始"]


def test_a_failing_feed_is_named_and_the_rest_still_arrive(registry):
    def broken(c):
        raise RuntimeError("数据库断开")

    registry.register("events", "监测事件", kind=command.LAYER, build=lambda c: [event(1)])
    registry.register("cards", "行动卡", kind=command.LAYER, build=broken)
    registry.register("b.tl", "乙", kind=command.TIMELINE, build=broken)
    registry.register("a.tl", "甲", kind=command.TIMELINE, build=lambda c: [{"at": 1, "t": "x"}])
    update = command.build_update(ctx(), {}, store=SnapshotStore())
    assert "events" in update["f"] and "cards" not in update["f"]
    assert sorted(update["err"]) == sorted(["行动卡:RuntimeError", "乙:RuntimeError"])
    # Half a timeline would read as the whole: the screen keeps the one it has.
    assert command.TIMELINE_KEY not in update["f"]


def test_a_drills_screen_has_only_the_feeds_that_know_drills(registry):
    registry.register(
        "sensors", "报警传感器", kind=command.LAYER, build=lambda c: [], modes=command.NORMAL_ONLY
    )
    registry.register(
        "incidents",
        "突发事件",
        kind=command.LAYER,
        build=lambda c: [event(7, dr=1)] if c.drill == 5 else [event(1)],
    )
    registry.register("drill.only", "演练预警", kind=command.LAYER, build=lambda c: [],
                      modes=command.DRILL_ONLY)  # fmt: skip
    registry.register_drill(lambda pk: "防汛演练" if pk == 5 else None)
    assert command.drill_title(5) == "防汛演练" and command.drill_title(6) is None
    normal = command.client_config(ctx())
    drill = command.client_config(ctx(drill=5))
    assert [x["key"] for x in normal["layers"]] == ["incidents", "sensors"]
    assert [x["key"] for x in drill["layers"]] == ["drill.only", "incidents"]
    update = command.build_update(ctx(drill=5), {}, store=SnapshotStore())
    assert update["mode"] == "drill" and "sensors" not in update["f"]
    rows = update["f"]["incidents"]["full"]
    assert [r[0] for r in rows] == [7]
    assert command.unpack(update["f"]["incidents"]["k"], rows[0])["dr"] == 1


def test_the_timeline_has_its_place_among_the_panels(registry):
    registry.register("duty", "值班信息", kind=command.PANEL, build=lambda c: None, order=10)
    registry.register("readings", "读数", kind=command.PANEL, build=lambda c: None, order=60)
    panels = command.client_config(ctx())["panels"]
    assert [p["key"] for p in panels] == ["duty", command.TIMELINE_KEY, "readings"]
    assert panels[1]["kind"] == command.TIMELINE


def test_the_wire_is_the_update_as_compact_json(registry):
    registry.register("events", "监测事件", kind=command.LAYER, build=lambda c: [event(1)])
    registry.register("duty", "值班", kind=command.PANEL, build=lambda c: {"rows": [{"t": "甲"}]})
    update = command.build_update(ctx(), {}, store=SnapshotStore())
    text = command.encode(update)
    assert json.loads(text) == json.loads(json.dumps(update))
    assert "事件1" in text  # Chinese as it is: 3 bytes a character, not \\uXXXX


def test_versions_from_the_client_are_read_defensively():
    assert command.parse_known("events:ab12,duty:cd34") == {"events": "ab12", "duty": "cd34"}
    assert command.parse_known("events:,bad,:x,duty:cd34,x:'; drop") == {"duty": "cd34"}
    assert command.parse_known(None) == {}
    assert len(command.parse_known(",".join(f"k{i}:v" for i in range(500)))) == command.MAX_KNOWN
    assert command.format_known({"a": "1", "b": "2"}) == "a:1,b:2"
