"""Without Redis, each worker's page cache is bounded by bytes, not only by entries."""

import pytest
from django.conf import settings

from tracker.cache_backends import BoundedLocMemCache


@pytest.fixture
def cache(request):
    backend = BoundedLocMemCache(
        f"test-{request.node.name}", {"OPTIONS": {"MAX_BYTES": 100_000, "MAX_ENTRIES": 1000}}
    )
    yield backend
    backend.clear()


def test_the_stored_size_never_exceeds_the_budget(cache):
    for n in range(100):
        cache.set(f"page-{n}", b"x" * 10_000)
    assert cache.size_in_bytes <= 100_000
    assert cache.get("page-99") is not None  # the newest stay


def test_the_least_recently_used_entries_go_first(cache):
    for n in range(9):
        cache.set(f"page-{n}", b"x" * 10_000)
    cache.get("page-0")  # read again: now recently used
    cache.set("page-9", b"x" * 10_000)
    cache.set("page-10", b"x" * 10_000)
    assert cache.get("page-0") is not None
    assert cache.get("page-1") is None


def test_a_value_larger_than_a_quarter_of_the_budget_is_not_kept(cache):
    cache.set("small", b"x" * 1_000)
    cache.set("huge", b"x" * 30_000)
    assert cache.get("huge") is None
    assert cache.get("small") is not None


def test_replacing_and_deleting_entries_keeps_the_count_right(cache):
    cache.set("page", b"x" * 10_000)
    cache.set("page", b"x" * 20_000)
    assert 20_000 <= cache.size_in_bytes < 21_000
    cache.delete("page")
    assert cache.size_in_bytes == 0


def test_counters_still_work(cache):
    cache.add("hits", 0)
    assert cache.incr("hits") == 1
    assert cache.incr("hits", 5) == 6


def test_expired_entries_make_room_first(cache):
    for n in range(9):
        cache.set(f"old-{n}", b"x" * 10_000, timeout=-1)  # already expired
    cache.set("live", b"x" * 10_000)
    cache.set("new", b"x" * 10_000)
    assert cache.get("live") is not None


def test_the_project_uses_it_without_redis():
    from django.core.cache import cache as project_cache

    if settings.CACHES["default"]["BACKEND"].endswith("RedisCache"):
        pytest.skip("REDIS_URL is set")
    budget = settings.CACHES["default"]["OPTIONS"]["MAX_BYTES"]
    try:
        for n in range(12):  # half as much again as the budget, far fewer than MAX_ENTRIES
            project_cache.set(f"bounded-{n}", b"x" * (budget // 8))
        assert project_cache.get("bounded-11") is not None
        assert project_cache.get("bounded-0") is None  # made room for by bytes, not by count
    finally:
        project_cache.clear()
