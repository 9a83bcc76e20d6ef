"""The public warning page and its feed are answered from a copy for logged-out
visitors (core/publiccache.py): a warning published, cancelled or expired shows
at the next request, a logged-in user gets the page rendered for them, and the
copy carries nobody's CSRF token."""

import datetime as dt

import pytest
from django.core.cache import caches
from django.utils import timezone

from yingji.alerts import services
from yingji.alerts.apps import PUBLIC_PAGES
from yingji.core import publiccache
from yingji.core.publiccache import CACHE_HEADER

from .conftest import draft_spec


@pytest.fixture
def cached(settings):
    settings.YINGJI_PUBLIC_PAGE_CACHE = True
    publiccache.bump_now(PUBLIC_PAGES)  # nothing kept from another test's data


def _release(people, spec):
    alert = services.create_draft(people["author"], spec)
    services.submit(alert, people["author"])
    return services.approve(alert, people["leader"])


def _live(response) -> str:
    return response.content.decode().split('id="live"')[1].split("</ul>")[0]


def test_a_published_warning_shows_at_once_on_the_cached_page_and_feed(
    cached, city, people, client, django_capture_on_commit_callbacks
):
    first = client.get("/alerts/public/")
    assert first[CACHE_HEADER] == "miss" and "当前没有生效中的预警" in _live(first)
    again = client.get("/alerts/public/")
    assert again[CACHE_HEADER] == "hit" and again.content == first.content
    assert "Content-Security-Policy" in again and again["X-Frame-Options"] == "DENY"
    # The copy is the same for everyone: no visitor's CSRF token, no cookie.
    assert "X-CSRFToken" not in again.content.decode() and not again.cookies
    assert client.get("/alerts/feed.atom")[CACHE_HEADER] == "miss"

    with django_capture_on_commit_callbacks(execute=True):
        alert = _release(people, draft_spec(expires=timezone.now() + dt.timedelta(hours=1)))
    page = client.get("/alerts/public/")
    assert alert.headline in _live(page) and page[CACHE_HEADER] == "miss"
    assert alert.headline in _live(client.get("/alerts/public/"))
    assert alert.identifier in client.get("/alerts/feed.atom").content.decode()

    # A draft changes nothing the public sees: the copy stays.
    with django_capture_on_commit_callbacks(execute=True):
        services.create_draft(people["author"], draft_spec(description="草稿"))
    assert client.get("/alerts/public/")[CACHE_HEADER] == "hit"

    with django_capture_on_commit_callbacks(execute=True):
        assert services.expire_due(timezone.now() + dt.timedelta(hours=2)) == 1
    page = client.get("/alerts/public/")
    assert alert.headline not in _live(page) and "已过期" in page.content.decode()


def test_a_logged_in_user_is_never_served_the_copy(cached, city, people, client):
    client.get("/alerts/public/")
    assert client.get("/alerts/public/")[CACHE_HEADER] == "hit"
    client.force_login(people["viewer"])
    page = client.get("/alerts/public/")
    assert CACHE_HEADER not in page
    text = page.content.decode()
    assert "退出" in text and "X-CSRFToken" in text  # rendered for this user
    client.logout()
    assert client.get("/alerts/public/")[CACHE_HEADER] == "hit"
    # A query string is answered by the view, not from the copy.
    assert CACHE_HEADER not in client.get("/alerts/public/?x=1")


def test_the_version_is_shared_through_redis_when_configured(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/0",
            "KEY_PREFIX": f"yingji-test-{timezone.now().timestamp()}",
        }
    }
    try:
        before = publiccache.version("t")
        assert publiccache.version("t") == before
        assert caches["default"].get("page-version:t") == before
        publiccache.bump_now("t")
        assert publiccache.version("t") not in {before, None}
    finally:
        caches["default"].delete("page-version:t")
