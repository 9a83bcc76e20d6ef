"""Core API: departments, near-duplicate decisions, /me and audit history."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from yingji.core import departments
from yingji.core.models import Department, MergeSuggestion, Profile, Role

BASE = "/api/v1/core"


@pytest.fixture
def loaded(db):
    departments.load_departments()


def _client(username, role=None, department=None, superuser=False):
    if superuser:
        user = User.objects.create_superuser(username, f"{username}@example.org", "x")
    else:
        user = User.objects.create_user(username)
    if role:
        Profile.objects.create(
            user=user,
            role=role,
            department=Department.objects.get(name=department) if department else None,
        )
    client = Client()
    client.force_login(user)
    return client


def _suggestion_id(a, b):
    return MergeSuggestion.objects.get(department__name__in=[a, b], candidate__name__in=[a, b]).pk


def test_anonymous_requests_are_refused(loaded):
    assert Client().get(f"{BASE}/departments").status_code == 401


def test_departments_list_hides_merged_ones(loaded):
    client = _client("root", superuser=True)
    names = {d["name"] for d in client.get(f"{BASE}/departments").json()}
    assert "科技处" in names
    client.post(f"{BASE}/departments/suggestions/{_suggestion_id('科技处', '科技和统计处')}/merge")
    data = {d["name"]: d for d in client.get(f"{BASE}/departments").json()}
    assert "科技处" not in data and "科技处" in data["科技和统计处"]["aliases"]


def test_suggestions_are_listed_with_their_text(loaded):
    client = _client("zonghe", Role.DEPT_STAFF, "综合处")
    items = client.get(f"{BASE}/departments/suggestions").json()
    assert len(items) == 5
    assert "火灾管理处 可能与 火灾处 相同(去掉通用后缀后相同)" in {i["text"] for i in items}


def test_merge_is_for_administrators_only(loaded):
    sid = _suggestion_id("科技处", "科技和统计处")
    staff = _client("zonghe", Role.DEPT_STAFF, "综合处")
    assert staff.post(f"{BASE}/departments/suggestions/{sid}/merge").status_code == 403
    assert staff.post(f"{BASE}/departments/suggestions/{sid}/dismiss").status_code == 403
    assert (
        _client("leader", Role.LEADER)
        .post(f"{BASE}/departments/suggestions/{sid}/merge")
        .status_code
        == 403
    )
    assert MergeSuggestion.objects.get(pk=sid).status == "open"


def test_administrator_merges_and_a_second_merge_conflicts(loaded):
    sid = _suggestion_id("科技处", "科技和统计处")
    admin = _client("adm", Role.ADMIN)
    response = admin.post(f"{BASE}/departments/suggestions/{sid}/merge")
    assert response.status_code == 200
    body = response.json()
    assert body["merged"]["name"] == "科技处" and body["target"]["name"] == "科技和统计处"
    assert body["suggestion"]["status"] == "merged" and body["suggestion"]["decided_by"] == "adm"
    assert admin.post(f"{BASE}/departments/suggestions/{sid}/merge").status_code == 409
    assert admin.post(f"{BASE}/departments/suggestions/99999/merge").status_code == 404


def test_administrator_dismisses(loaded):
    sid = _suggestion_id("指挥中心", "三防指挥中心")
    response = _client("root", superuser=True).post(f"{BASE}/departments/suggestions/{sid}/dismiss")
    assert response.status_code == 200 and response.json()["status"] == "dismissed"
    assert not Department.objects.filter(merged_into__isnull=False).exists()


def test_me_describes_user_role_department_and_scope(loaded):
    body = _client("weihua", Role.DEPT_STAFF, "危化处").get(f"{BASE}/me").json()
    weihua = Department.objects.get(name="危化处")
    assert body["username"] == "weihua" and body["role"] == "dept_staff"
    assert body["role_label"] == "处室人员"
    assert body["department"] == {"id": weihua.pk, "name": "危化处"}
    assert body["scope"] == {
        "sees_all": False,
        "edits_all": False,
        "department_ids": [weihua.pk],
        "region_codes": [],
    }
    assert body["is_administrator"] is False


def test_me_without_a_profile(db):
    body = _client("root", superuser=True).get(f"{BASE}/me").json()
    assert body["role"] is None and body["scope"]["sees_all"] and body["is_administrator"]


def test_audit_history_of_a_department(loaded):
    dept = Department.objects.get(name="综合处")
    admin = _client("adm", Role.ADMIN)
    admin.post(f"{BASE}/departments/suggestions/{_suggestion_id('科技处', '科技和统计处')}/merge")
    keji = Department.objects.get(name="科技处")
    staff = _client("zonghe", Role.DEPT_STAFF, "综合处")
    history = staff.get(f"{BASE}/audit/core/department/{keji.pk}").json()
    assert [e["action"] for e in history] == ["update", "create"]
    assert history[0]["actor"] == "adm"
    assert history[0]["changed_fields"] == ["active", "merged_into_id"]
    assert history[0]["before"]["merged_into_id"] is None
    assert history[0]["after"]["merged_into_id"] == Department.objects.get(name="科技和统计处").pk
    assert staff.get(f"{BASE}/audit/core/department/{dept.pk}").status_code == 200


def test_audit_history_of_other_objects_needs_a_scope_that_sees_everything(loaded):
    staff = _client("zonghe", Role.DEPT_STAFF, "综合处")
    profile = Profile.objects.get(user__username="zonghe")
    assert staff.get(f"{BASE}/audit/core/profile/{profile.pk}").status_code == 403
    leader = _client("leader", Role.LEADER)
    history = leader.get(f"{BASE}/audit/core/profile/{profile.pk}").json()
    assert history[0]["action"] == "create"
    assert leader.get(f"{BASE}/audit/core/nosuchmodel/1").status_code == 404
    assert leader.get(f"{BASE}/audit/core/profile/999999").status_code == 404
    assert leader.get(f"{BASE}/audit/core/profile/abc").status_code == 404


def test_favicon_ico_answers(client):
    response = client.get("/favicon.ico", follow=True)
    assert response.status_code == 200 and response.redirect_chain[0][0].endswith("favicon.svg")


def test_error_pages_are_in_chinese_within_the_layout(client, django_user_model, settings):
    settings.DEBUG = False
    user = django_user_model.objects.create_user("someone", password="pw-123456")
    client.force_login(user)
    missing = client.get("/no-such-page/")
    assert missing.status_code == 404
    text = missing.content.decode()
    assert "页面不存在" in text and 'class="topbar"' in text and "Not Found" not in text
    forbidden = client.get("/channels/")  # administrators only
    assert forbidden.status_code == 403
    assert "无权访问" in forbidden.content.decode() and "仅管理员" in forbidden.content.decode()


def test_the_500_page_renders_without_a_request(settings):
    from django.template import loader

    html = loader.get_template("500.html").render()
    assert "系统出错" in html and "Server Error" not in html


def test_durations_read_as_hours_and_minutes():
    from yingji.core.templatetags.yingji_labels import duration

    assert [duration(s) for s in (3600, 10800, 5400, 120, 45, 86400 + 3600, 0, None)] == [
        "1小时",
        "3小时",
        "1小时30分钟",
        "2分钟",
        "45秒",
        "1天1小时",
        "",
        "",
    ]
