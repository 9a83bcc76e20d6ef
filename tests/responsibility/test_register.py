"""The 三防责任人 register through its services and pages: imports (strict and
partial, scoped), changes audited, the warning group fed from it, the posting
(public page and files) and the 一键通 progress."""

import datetime as dt
import io

import docx
import openpyxl
import pytest
from django.test import Client

from yingji.alerts.models import Subscriber, SubscriberGroup
from yingji.alerts.subscribers import import_subscribers
from yingji.core.models import AuditEntry
from yingji.responsibility import services
from yingji.responsibility.models import RegisterRound, Responsible

HEADER = "区划,对象类型,责任对象,责任人类别,姓名,单位及职务,手机,一键通安装日期\n"
TIANHE_ROWS = (
    "石牌街道,内涝点,石牌桥积水点,行政责任人,陈明,石牌街道办事处主任,13800138000,2022-03-02\n"
    "石牌街道,内涝点,石牌桥积水点,巡查责任人,李强,石牌街道城管科科员,13900139000,\n"
    "天河区,行政区域,天河区,行政责任人,黄华,天河区区长,13700137000,2022-03-05\n"
)


def csv(rows: str) -> bytes:
    return (HEADER + rows).encode()


def test_a_district_imports_its_register_and_a_second_import_updates_not_duplicates(world):
    result = services.import_register(world["tianhe"], "天河.csv", csv(TIANHE_ROWS))
    assert result.written and (result.created, result.updated) == (3, 0)
    again = services.import_register(
        world["tianhe"], "天河.csv", csv(TIANHE_ROWS.replace("13900139000", "13900139001"))
    )
    assert (again.created, again.updated, again.unchanged) == (0, 1, 2)
    assert Responsible.objects.count() == 3
    assert Responsible.objects.get(name="李强").phone == "13900139001"
    change = AuditEntry.objects.filter(
        content_type__model="responsible", action="update", actor=world["tianhe"]
    ).get()
    assert change.changed_fields == ["phone", "updated_at"]


def test_strict_import_writes_nothing_and_names_every_problem(world):
    rows = TIANHE_ROWS + (
        "石牌街道,内涝点,石牌桥积水点,巡查责任人,王五,科员,13600136000,\n"  # twice
        "石牌街道,水库,某水库,行政责任人,赵六,主任,,\n"  # no phone
        "番禺区,行政区域,番禺区,行政责任人,孙七,区长,13500135000,\n"  # not theirs
    )
    result = services.import_register(world["tianhe"], "天河.csv", csv(rows))
    assert not result.written and Responsible.objects.count() == 0
    texts = [str(p) for p in result.problems]
    assert texts[0].startswith("第 5 行“责任人类别”列:与第 3 行重复")
    assert "第 6 行“手机”列:不能为空" in texts
    assert any(t.startswith("第 7 行“区划”列:区划不存在或不在本账号范围:番禺区") for t in texts)


def test_partial_import_writes_the_good_rows_only(world):
    rows = TIANHE_ROWS + "石牌街道,水库,某水库,行政责任人,赵六,主任,,\n"
    result = services.import_register(world["tianhe"], "天河.csv", csv(rows), partial=True)
    assert result.written and result.created == 3 and result.skipped_rows == 1
    assert not Responsible.objects.filter(name="赵六").exists()


def test_a_workbook_with_other_headers_imports(world):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["所在区划", "类型", "名称", "类别", "责任人姓名", "职务", "手机号码"])
    sheet.append(
        ["440106006", "水库", "龙洞水库", "技术责任人", "周八", "水务所工程师", 13300133000]
    )
    data = io.BytesIO()
    book.save(data)
    result = services.import_register(world["sanfang"], "名册.xlsx", data.getvalue())
    assert result.written and result.created == 1, result.problems
    assert Responsible.objects.get().phone == "13300133000"


def test_the_register_is_the_warning_groups_only_source(world):
    services.import_register(world["tianhe"], "天河.csv", csv(TIANHE_ROWS))
    group = SubscriberGroup.objects.get(key="sanfang")
    members = {s.name: s for s in group.subscribers.all()}
    assert set(members) == {"陈明", "李强", "黄华"}
    assert members["陈明"].home_region_id == "440106006" and members["陈明"].phone == "13800138000"
    person = Responsible.objects.get(name="李强")
    services.remove_person(world["tianhe"], person)
    assert set(group.subscribers.values_list("name", flat=True)) == {"陈明", "黄华"}
    report = import_subscribers(
        "订阅人.csv", "编号,姓名/单位,手机,人群\nX1,某人,13100131000,三防责任人\n".encode()
    )
    assert report.errors and "三防责任人名册" in report.errors[0]
    assert not Subscriber.objects.filter(external_id="X1").exists()


def test_scope_holds_on_reads_and_writes(world):
    services.import_register(
        world["sanfang"],
        "全市.csv",
        csv(TIANHE_ROWS.replace("天河区,", "番禺区,").replace("石牌街道", "市桥街道")),
    )
    assert services.visible_people(world["tianhe"]).filter(obj__region_id="440106").count() == 0
    assert services.visible_people(world["panyu"]).count() == 3
    assert services.visible_people(world["weihua"]).count() == 0
    assert services.visible_people(world["duty"]).count() == 3
    assert services.visible_people(world["duty"], editing=True).count() == 0
    person = Responsible.objects.get(name="陈明")
    with pytest.raises(services.PermissionDenied):
        services.save_person(world["tianhe"], person, {"phone": "13800000000"})
    client = Client()
    client.force_login(world["tianhe"])
    assert client.get(f"/responsibility/sanfang/objects/{person.obj_id}/").status_code == 404
    answer = client.post(
        f"/responsibility/sanfang/objects/{person.obj_id}/admin/", {"name": "x", "phone": "1"}
    )
    assert answer.status_code == 404
    client.force_login(world["weihua"])
    assert client.get("/responsibility/sanfang/").status_code == 403


def test_a_person_is_replaced_on_the_page_and_the_change_is_shown(world):
    services.import_register(world["tianhe"], "天河.csv", csv(TIANHE_ROWS))
    person = Responsible.objects.get(name="陈明")
    client = Client()
    client.force_login(world["tianhe"])
    page = client.post(
        f"/responsibility/sanfang/objects/{person.obj_id}/admin/",
        {"name": "吴勇", "post": "石牌街道办事处主任", "phone": "13600136001"},
        follow=True,
    )
    assert "已保存石牌桥积水点的行政责任人" in page.content.decode()
    person.refresh_from_db()
    assert (person.name, person.phone, person.app_installed_on) == ("吴勇", "13600136001", None)
    changes = page.content.decode().split('id="changes"')[1]
    assert "<div>姓名</div>" in changes and "<div>手机</div>" in changes
    bad = client.post(
        f"/responsibility/sanfang/objects/{person.obj_id}/admin/",
        {"name": "吴勇", "post": "主任", "phone": "123"},
        follow=True,
    )
    assert "号码格式不对:123" in bad.content.decode()
    assert SubscriberGroup.objects.get(key="sanfang").subscribers.filter(name="吴勇").exists()


def test_public_posting_needs_no_login_and_masks_mobiles(world):
    services.import_register(world["tianhe"], "天河.csv", csv(TIANHE_ROWS))
    page = Client().get("/responsibility/public/sanfang/?district=440106").content.decode()
    assert "石牌桥积水点" in page and "陈明" in page and "138****8000" in page
    assert "13800138000" not in page
    xlsx = Client().get("/responsibility/public/sanfang/440106.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
    assert [c.value for c in sheet[2]][:5] == [
        "所在区划",
        "责任对象",
        "对象类型",
        "责任人类别",
        "姓名",
    ]
    assert sheet.max_row == 2 + 3
    word = docx.Document(
        io.BytesIO(Client().get("/responsibility/public/sanfang/440106.docx").content)
    )
    assert len(word.tables[0].rows) == 1 + 3
    assert "13800138000" not in "".join(c.text for r in word.tables[0].rows for c in r.cells)


def test_progress_shows_overdue_after_the_deadline_and_the_district_confirms(world, monkeypatch):
    services.import_register(world["tianhe"], "天河.csv", csv(TIANHE_ROWS))
    monkeypatch.setattr(services, "today", lambda: dt.date(2022, 4, 20))
    record = services.open_round(
        world["sanfang"],
        2022,
        world["regions"]["440106"],
        dt.date(2022, 3, 31),
        dt.date(2022, 4, 15),
    )
    with pytest.raises(services.PermissionDenied):
        services.open_round(
            world["tianhe"],
            2022,
            world["regions"]["440113"],
            dt.date(2022, 3, 31),
            dt.date(2022, 4, 15),
        )
    lines, total = services.progress_table(world["sanfang"], year=2022, by="street")
    (line,) = [x for x in lines if x.code == "440106006"]
    assert (line.installed, line.overdue) == (1, 1)
    assert (total.installed, total.pending, total.overdue) == (2, 0, 1)
    with pytest.raises(services.PermissionDenied):
        services.confirm_round(world["panyu"], record)
    services.confirm_round(world["tianhe"], record)
    assert RegisterRound.objects.get().confirmed_by == world["tianhe"]
    client = Client()
    client.force_login(world["tianhe"])
    page = client.get("/responsibility/sanfang/progress/?year=2022&by=street").content.decode()
    assert "石牌街道" in page and "逾期未安装" in page


def test_the_api_reads_scoped_changes_with_the_same_checks_and_posts_publicly(world):
    services.import_register(world["tianhe"], "天河.csv", csv(TIANHE_ROWS))
    client = Client()
    client.force_login(world["tianhe"])
    people = client.get("/api/v1/responsibility/sanfang").json()
    assert {p["name"] for p in people} == {"陈明", "李强", "黄华"}
    assert {p["role_label"] for p in people} == {"行政责任人", "巡查责任人"}
    client.force_login(world["panyu"])
    assert client.get("/api/v1/responsibility/sanfang").json() == []
    obj_id = people[0]["object_id"]
    assert (
        client.put(
            f"/api/v1/responsibility/sanfang/objects/{obj_id}/admin",
            {"name": "x", "post": "y", "phone": "13100131000"},
            content_type="application/json",
        ).status_code
        == 404
    )
    client.force_login(world["tianhe"])
    bad = client.put(
        f"/api/v1/responsibility/sanfang/objects/{obj_id}/admin",
        {"name": "x", "post": "y", "phone": "123"},
        content_type="application/json",
    )
    assert bad.status_code == 422 and "号码格式不对" in bad.json()["detail"]["phone"][0]
    upload = client.post(
        "/api/v1/responsibility/sanfang/import?mode=strict",
        {"file": io.BytesIO(csv("番禺区,行政区域,番禺区,行政责任人,孙七,区长,13500135000,\n"))},
    )
    assert upload.status_code == 422 and upload.json()["written"] is False
    assert upload.json()["problems"][0]["column"] == "区划"
    public = Client().get("/api/v1/responsibility/public/sanfang/440106").json()
    assert {p["phone"] for p in public} >= {"138****8000"}


def test_the_register_names_objects_lacking_a_kind_of_person(world):
    rows = TIANHE_ROWS + "石牌街道,水库,龙洞水库,行政责任人,赵六,主任,13600136009,\n"
    services.import_register(world["tianhe"], "天河.csv", csv(rows))
    found = {obj.name: missing for obj, missing in services.gaps(world["tianhe"])}
    assert found == {"龙洞水库": ["技术责任人", "巡查责任人"]}
    assert services.gaps(world["panyu"]) == []
    assert len(services.gaps(world["tianhe"], limit=0)) == 0
    client = Client()
    client.force_login(world["tianhe"])
    page = client.get("/responsibility/sanfang/").content.decode()
    assert "龙洞水库" in page.split('id="gaps"')[1] and "缺技术责任人、巡查责任人" in page
