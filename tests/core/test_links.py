"""The link-column registry: one module's links on another module's lists."""

from types import SimpleNamespace

from yingji.core import links


def test_attach_sets_one_link_or_none_per_column_with_one_call_per_page(monkeypatch):
    monkeypatch.setattr(links, "_COLUMNS", {})
    calls = []

    def cases(objects):
        calls.append([o.pk for o in objects])
        return {o.pk: links.Link(f"状态{o.pk}", f"/case/{o.pk}/") for o in objects if o.pk % 2}

    links.register("app.thing", "second", "其二", lambda objects: {}, order=20)
    links.register("app.thing", "case", "回头看", cases, order=10)
    rows = [SimpleNamespace(pk=1), SimpleNamespace(pk=2)]
    cols = links.attach("app.thing", rows)
    assert [c.title for c in cols] == ["回头看", "其二"]
    assert rows[0].links == [links.Link("状态1", "/case/1/"), None]
    assert rows[1].links == [None, None]
    assert calls == [[1, 2]]


def test_a_list_nobody_links_to_has_no_columns():
    assert links.attach("app.unlinked", []) == []
    assert [c.key for c in links.columns("risk.accident")] == ["lookback"]
