"""A per-process memory cache bounded by bytes, for when there is no Redis.

Django's LocMemCache bounds only the number of entries; with whole pages and downloads as
entries, 1,000 of them can be a few megabytes or a few gigabytes per worker. This one also keeps
the total size of the stored (pickled) values under OPTIONS["MAX_BYTES"], evicting the least
recently used entries first, and refuses any single value larger than a quarter of that, so one
big download cannot flush every page.
"""

import pickle
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache

DEFAULT_MAX_BYTES = 64 * 1024 * 1024

# Per cache name, like LocMemCache's own stores: each entry's size and the running total.
_sizes: dict[str, dict[str, int]] = {}
_totals: dict[str, list[int]] = {}


class BoundedLocMemCache(LocMemCache):
    def __init__(self, name, params):
        super().__init__(name, params)
        self.max_bytes = int(params.get("OPTIONS", {}).get("MAX_BYTES", DEFAULT_MAX_BYTES))
        self.max_value_bytes = self.max_bytes // 4
        self._sizes = _sizes.setdefault(name, {})
        self._total = _totals.setdefault(name, [0])

    @property
    def size_in_bytes(self) -> int:
        return self._total[0]

    # Called with self._lock held, like the methods they override.
    def _set(self, key, value, timeout=DEFAULT_TIMEOUT):
        self._delete(key)
        size = len(value)
        if size > self.max_value_bytes:
            return  # too big to keep: the caller computes it again next time
        self._make_room(size)
        super()._set(key, value, timeout)
        self._sizes[key] = size
        self._total[0] += size

    def _make_room(self, size):
        if self._total[0] + size > self.max_bytes or len(self._cache) >= self._max_entries:
            now = time.time()
            for key in [k for k, expiry in self._expire_info.items() if expiry is not None]:
                if self._expire_info[key] <= now:
                    self._delete(key)
        # Most recently used entries are at the front (LocMemCache moves them there).
        while self._cache and (
            self._total[0] + size > self.max_bytes or len(self._cache) >= self._max_entries
        ):
            self._delete(next(reversed(self._cache)))

    def _cull(self):
        # Never reached through _set (room is made first); kept consistent for other callers.
        self._make_room(0)

    def _delete(self, key):
        deleted = super()._delete(key)
        if deleted:
            self._total[0] -= self._sizes.pop(key, 0)
        return deleted

    def incr(self, key, delta=1, version=None):
        key = self.make_and_validate_key(key, version=version)
        with self._lock:
            if self._has_expired(key):
                self._delete(key)
                raise ValueError(f"Key '{key}' not found")
            value = pickle.loads(self._cache[key]) + delta
            pickled = pickle.dumps(value, self.pickle_protocol)
            self._cache[key] = pickled
            self._cache.move_to_end(key, last=False)
            self._total[0] += len(pickled) - self._sizes.get(key, 0)
            self._sizes[key] = len(pickled)
        return value

    def clear(self):
        with self._lock:
            self._cache.clear()
            self._expire_info.clear()
            self._sizes.clear()
            self._total[0] = 0
