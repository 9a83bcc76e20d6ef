"""core.viewhelpers: the Chinese text of a failure, and the POST → service →
message → redirect helper."""

from decimal import InvalidOperation

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import RequestFactory
from django.urls import reverse

from yingji.core.viewhelpers import act, error_text


class StateError(ValueError):
    """Like a state machine's TransitionError: a ValueError with a Chinese text."""


def _request():
    request = RequestFactory().post("/x/")
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def _messages(request) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in get_messages(request)]


def test_error_text_of_a_validation_error_joins_its_messages():
    assert error_text(ValidationError("标题不能为空")) == "标题不能为空"
    assert error_text(ValidationError(["甲", "乙"])) == "甲;乙"
    assert error_text(ValidationError(["甲", "乙"]), sep="; ") == "甲; 乙"


def test_error_text_of_a_field_dict_is_every_message_in_field_order():
    exc = ValidationError(
        {"title": ["标题不能为空"], "areas": ["至少选择一个区域", "多边形须为 GeoJSON"]}
    )
    assert error_text(exc) == "标题不能为空;至少选择一个区域;多边形须为 GeoJSON"


def test_error_text_of_other_exceptions_is_their_chinese_text():
    assert error_text(PermissionDenied("无权处理该报警")) == "无权处理该报警"
    assert error_text(ValueError("日期格式应为 YYYY-MM-DD")) == "日期格式应为 YYYY-MM-DD"
    assert error_text(StateError("当前状态不允许该操作")) == "当前状态不允许该操作"


def test_error_text_is_never_blank():
    assert error_text(PermissionDenied()) == "无权执行此操作"
    assert error_text(StateError()) == "操作失败"


def test_act_success_message_and_redirect():
    request = _request()
    response = act(request, lambda: 7, success="已保存", redirect_to="/done/")
    assert (response.status_code, response.url) == (302, "/done/")
    assert _messages(request) == [("success", "已保存")]


def test_act_success_text_and_target_may_depend_on_the_result():
    request = _request()
    response = act(
        request,
        lambda: 3,
        success=lambda n: f"已导入 {n} 条",
        redirect_to=lambda n: f"/items/{n}/",
        on_error="/items/",
    )
    assert response.url == "/items/3/"
    assert _messages(request) == [("success", "已导入 3 条")]


def test_act_without_success_text_adds_no_message():
    request = _request()
    act(request, lambda: None, success=None, redirect_to="/done/")
    assert _messages(request) == []


def test_act_accepts_a_url_name_with_arguments():
    request = _request()
    response = act(request, lambda: None, success="好", redirect_to=("workplan:task", 5))
    assert response.url == reverse("workplan:task", kwargs={"task_id": 5})


@pytest.mark.parametrize(
    "exc, text",
    [
        (ValidationError({"f": ["甲"], "g": ["乙"]}), "甲;乙"),
        (PermissionDenied("无权操作"), "无权操作"),
        (StateError("已结案,不能再续报"), "已结案,不能再续报"),
    ],
)
def test_act_turns_the_usual_failures_into_an_error_message(exc, text):
    request = _request()

    def fail():
        raise exc

    response = act(
        request, fail, success="已保存", redirect_to=lambda _: "/never/", on_error="/form/"
    )
    assert (response.status_code, response.url) == (302, "/form/")
    assert _messages(request) == [("error", text)]


def test_act_lets_other_failures_through():
    def fail():
        raise PermissionDenied("无权操作")

    with pytest.raises(PermissionDenied):
        act(_request(), fail, success="已保存", redirect_to="/x/", errors=(ValidationError,))
    with pytest.raises(ValueError):
        act(
            _request(),
            lambda: int("x"),
            success="已保存",
            redirect_to="/x/",
            errors=(ValidationError,),
        )
    with pytest.raises(KeyError):
        act(_request(), lambda: {}["k"], success="已保存", redirect_to="/x/")


def test_act_bad_input_is_the_fixed_text_for_a_parse_error():
    def bad_decimal():
        raise InvalidOperation

    for fn in (lambda: int("x"), bad_decimal):
        request = _request()
        response = act(
            request,
            fn,
            success="已保存",
            redirect_to="/x/",
            errors=(ValidationError,),
            bad_input="金额或日期格式不正确",
        )
        assert response.url == "/x/"
        assert _messages(request) == [("error", "金额或日期格式不正确")]
    request = _request()

    def invalid():
        raise ValidationError("金额不能为负")

    act(
        request,
        invalid,
        success="已保存",
        redirect_to="/x/",
        errors=(ValidationError,),
        bad_input="格式不正确",
    )
    assert _messages(request) == [("error", "金额不能为负")]


def test_act_with_a_result_dependent_target_needs_on_error():
    def fail():
        raise ValidationError("不行")

    with pytest.raises(TypeError):
        act(_request(), fail, success="好", redirect_to=lambda r: "/x/")
