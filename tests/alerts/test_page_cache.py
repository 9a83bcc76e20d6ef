"""The working pages kept per user (core/pagecache.py), tried on the alert list:
a second visit is answered from the copy, a change made through the application
shows at the next request, nobody gets another user's copy, and every answer
carries the requesting browser's own CSRF token."""

import re

import pytest
from django.contrib import messages
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpRequest
from django.middleware.csrf import _unmask_cipher_token

from yingji.alerts import services
from yingji.core import pagecache
from yingji.core.pagecache import CACHE_HEADER

from .conftest import draft_spec

_TOKEN = re.compile(
    r'"X-CSRFToken": "([A-Za-z0-9]{64})"|name="csrfmiddlewaretoken" value="([A-Za-z0-9]{64})"'
)


def _tokens(response) -> list[str]:
    return [a or b for a, b in _TOKEN.findall(response.content.decode())]


@pytest.fixture
def kept(settings):
    settings.YINGJI_PAGE_CACHE_SECONDS = 30
    pagecache.forget()
    yield
    pagecache.forget()


def test_a_change_shows_at_the_next_request_and_a_copy_is_one_users(
    kept, city, people, client, django_capture_on_commit_callbacks
):
    client.force_login(people["viewer"])
    first = client.get("/alerts/")
    assert first.status_code == 200 and CACHE_HEADER not in first
    again = client.get("/alerts/")
    assert again[CACHE_HEADER] == "hit"
    assert _tokens(again) and _tokens(again) != _tokens(first)  # masked afresh
    assert again.content.decode().replace(_tokens(again)[0], "") == first.content.decode().replace(
        _tokens(first)[0], ""
    )

    with django_capture_on_commit_callbacks(execute=True):
        alert = services.create_draft(people["author"], draft_spec(description="新的草稿"))
    page = client.get("/alerts/")
    assert CACHE_HEADER not in page and alert.headline in page.content.decode()
    assert client.get("/alerts/")[CACHE_HEADER] == "hit"
    assert CACHE_HEADER not in client.get("/alerts/?state=draft")  # another URL

    # Another user: rendered for them.
    other = type(client)()
    other.force_login(people["leader"])
    mine = other.get("/alerts/")
    assert CACHE_HEADER not in mine and "leader" in mine.content.decode()
    # The same user on another browser: the copy, with that browser's own token.
    second = type(client)()
    second.force_login(people["viewer"])
    page = second.get("/alerts/")
    assert page[CACHE_HEADER] == "hit"
    secret = page.cookies["csrftoken"].value
    assert {_unmask_cipher_token(t) for t in _tokens(page)} == {secret}


def test_the_copy_ages_out_and_waiting_messages_are_shown(kept, city, people, client, monkeypatch):
    client.force_login(people["viewer"])
    client.get("/alerts/")
    assert client.get("/alerts/")[CACHE_HEADER] == "hit"
    now = pagecache.time.monotonic()
    monkeypatch.setattr(pagecache.time, "monotonic", lambda: now + 31)
    assert CACHE_HEADER not in client.get("/alerts/")
    assert client.get("/alerts/")[CACHE_HEADER] == "hit"

    # A message waiting (after a form was sent) is shown, not hidden by the copy.
    storage = CookieStorage(HttpRequest())
    client.cookies["messages"] = storage._encode([Message(messages.SUCCESS, "预警已保存")])
    page = client.get("/alerts/")
    assert CACHE_HEADER not in page and "预警已保存" in page.content.decode()
