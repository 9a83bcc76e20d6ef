"""The subscriber targeting index kept per process: located regions stored with
the location, incremental refresh equal to a full read, fall-back to a full read."""

import numpy as np
from django.core.management import call_command
from django.utils import timezone
from shapely.geometry import Polygon

from yingji.alerts import services
from yingji.alerts import subscribers as subscriber_service
from yingji.alerts.models import Subscriber, SubscriberGroup
from yingji.alerts.targeting import Rule

from .conftest import subscriber

FENCE = Polygon([(113.28, 23.06), (113.40, 23.08), (113.38, 23.17), (113.29, 23.15)])


def _fix(ext, lon, lat):
    return subscriber_service.LocationFix(external_id=ext, lon=lon, lat=lat, at=timezone.now())


def _crowd(n=300, seed=4):
    """n subscribers spread over the test city, a third in groups, via bulk SQL."""
    rng = np.random.default_rng(seed)
    groups = list(SubscriberGroup.objects.order_by("id"))
    rows = [
        Subscriber(
            external_id=f"P{i:04d}",
            name=f"P{i}",
            phone=f"86139{i:08d}",
            last_lon=float(rng.uniform(113.2, 113.45)),
            last_lat=float(rng.uniform(23.05, 23.2)),
            home_region_id="440104" if i % 7 == 0 else None,
        )
        for i in range(n)
    ]
    for row, code in zip(
        rows,
        services.located_codes([r.last_lon for r in rows], [r.last_lat for r in rows]),
        strict=True,
    ):
        row.located_region = code
    created = Subscriber.objects.bulk_create(rows)
    through = Subscriber.groups.through
    through.objects.bulk_create(
        [
            through(subscriber_id=s.pk, subscribergroup_id=groups[i % 4].pk)
            for i, s in enumerate(created)
            if i % 3 == 0
        ]
    )
    return created


def _answers(index, bits):
    rule_sets = [
        [Rule(region_codes=("440106",))],
        [Rule(region_codes=("440106001",))],
        [Rule(shapes=(FENCE,))],
        [Rule(region_codes=("440104",), group_bits=(bits[0],)), Rule(group_bits=(bits[2],))],
        [Rule(region_codes=("440100",))],
    ]
    return [sorted(index.resolve(rules).tolist()) for rules in rule_sets]


def test_a_moved_subscriber_is_targeted_by_the_street_it_moved_to(subscribers):
    street = [Rule(region_codes=("440106001",))]
    mover = subscribers["b-public"]
    assert mover.pk not in services.subscriber_index().resolve(street)
    subscriber_service.update_locations([_fix("b-public", 113.33, 23.12)])
    mover.refresh_from_db()
    assert mover.located_region == "440106001"
    assert mover.pk in services.subscriber_index().resolve(street)
    subscriber_service.update_locations([_fix("b-public", 113.25, 23.10)])  # back to 越秀区
    assert mover.pk not in services.subscriber_index().resolve(street)
    assert Subscriber.objects.get(pk=mover.pk).located_region == "440104"


def test_incremental_refresh_gives_the_same_recipients_as_a_full_read(city):
    crowd = _crowd()
    bits = list(services.group_bits().values())
    services.subscriber_index(full=True)
    # Moves (in, out, to nowhere known), new subscribers, opt-outs, new memberships.
    subscriber_service.update_locations(
        [_fix(s.external_id, 113.33 + i * 0.001, 23.1) for i, s in enumerate(crowd[:12])]
        + [_fix(s.external_id, 113.22, 23.19) for s in crowd[12:18]]
    )
    Subscriber.objects.filter(pk=crowd[18].pk).update(
        last_lon=None, last_lat=None, located_region=None, updated_at=timezone.now()
    )
    for i in range(4):
        subscriber(
            f"new-{i}", lon=113.31 + i * 0.03, lat=23.11, groups=["school", "sanfang"][i % 2 :]
        )
    for s in crowd[20:23]:
        s.opted_out = True
        s.save()
    crowd[30].groups.add(SubscriberGroup.objects.get(key="sanfang"))
    patched = services.subscriber_index()
    assert services.last_index_refresh() == "patched"
    assert services.subscriber_index() is patched and services.last_index_refresh() == "cached"
    assert _answers(patched, bits) == _answers(services.subscriber_index(full=True), bits)

    # A removed membership or a deleted subscriber cannot be seen in a delta: full read.
    crowd[0].groups.clear()
    Subscriber.objects.filter(pk=crowd[40].pk).delete()
    after = services.subscriber_index()
    assert services.last_index_refresh() == "full"
    assert crowd[40].pk not in after.ids and len(after) == 303


def test_a_large_change_reads_everything(city):
    crowd = _crowd(50)
    services.subscriber_index()
    subscriber_service.update_locations([_fix(s.external_id, 113.33, 23.1) for s in crowd[:20]])
    services.subscriber_index()
    assert services.last_index_refresh() == "full"


def test_rows_without_a_stored_region_are_looked_up_and_the_command_fills_them(city):
    crowd = _crowd(40)
    Subscriber.objects.update(located_region=None)
    bits = list(services.group_bits().values())
    before = _answers(services.subscriber_index(full=True), bits)
    call_command("locate_subscribers")
    assert not Subscriber.objects.filter(located_region=None).exists()
    assert Subscriber.objects.get(pk=crowd[0].pk).located_region in (
        "440106001",
        "440106",
        "440104",
    )
    assert _answers(services.subscriber_index(), bits) == before


def test_new_region_boundaries_relocate_stored_regions(
    city, tmp_path, django_capture_on_commit_callbacks
):
    import json

    from yingji.core import regions

    person = Subscriber.objects.create(
        external_id="X1", name="X1", phone="8613900000001", last_lon=113.33, last_lat=23.12
    )
    assert person.located_region == "440106001"
    # 五山街道 shrinks to x 113.30–113.32: the person is now in 天河区 outside any street.
    shrunk = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {
                    "code": "440106001",
                    "name": "五山街道",
                    "level": "street",
                    "parent": "440106",
                },
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [113.30, 23.05],
                            [113.32, 23.05],
                            [113.32, 23.2],
                            [113.30, 23.2],
                            [113.30, 23.05],
                        ]
                    ],
                },
            }
        ],
    }
    path = tmp_path / "streets.geojson"
    path.write_text(json.dumps(shrunk), encoding="utf-8")
    with django_capture_on_commit_callbacks(execute=True):
        assert regions.import_files([path]).updated == 1
    person.refresh_from_db()
    assert person.located_region == "440106"
    assert person.pk not in services.subscriber_index().resolve([Rule(region_codes=("440106001",))])
