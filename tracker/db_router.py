"""Optional read replica (DATABASE_REPLICA_URL): public read-only pages read from it.

Only what a reader sees may be a little stale, so only anonymous GET/HEAD requests outside the
admin are marked replica-safe (by ReplicaReadMiddleware, for the duration of the view). Every
write, and every read anywhere else (admin, forms, management commands, migrations, inside a
transaction, the apps behind logins and sessions) goes to the primary, `default`.
"""

import contextvars

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA_DB_ALIAS = "replica"
# Logins, sessions, lock-outs and admin bookkeeping must never read a lagging copy.
PRIMARY_ONLY_APPS = frozenset({"admin", "auth", "axes", "contenttypes", "sessions"})
_SAFE_METHODS = frozenset({"GET", "HEAD"})

replica_reads_allowed = contextvars.ContextVar("replica_reads_allowed", default=False)


class ReplicaReadMiddleware:
    """Allow replica reads while a public read-only request is served."""

    def __init__(self, get_response):
        # Without a replica this middleware drops itself out of the chain.
        if REPLICA_DB_ALIAS not in settings.DATABASES:
            raise MiddlewareNotUsed
        self.get_response = get_response
        self.admin_prefix = "/" + settings.ADMIN_PATH

    def __call__(self, request):
        if not self.replica_safe(request):
            return self.get_response(request)
        token = replica_reads_allowed.set(True)
        try:
            return self.get_response(request)
        finally:
            # Streamed downloads are generated after this returns and so read from the primary.
            replica_reads_allowed.reset(token)

    def replica_safe(self, request):
        return (
            request.method in _SAFE_METHODS
            and not request.path.startswith(self.admin_prefix)
            # Signed-in editors must see their own edits at once (previews), not the lagging copy.
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
        )


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints):
        if (
            replica_reads_allowed.get()
            and model._meta.app_label not in PRIMARY_ONLY_APPS
            # A transaction must see its own writes.
            and not connections[DEFAULT_DB_ALIAS].in_atomic_block
        ):
            return REPLICA_DB_ALIAS
        # Explicit, so an object once read from the replica is not re-read there by default.
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # Both aliases hold the same data.
        if {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA_DB_ALIAS}:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica follows the primary's schema through replication.
        return db == DEFAULT_DB_ALIAS
