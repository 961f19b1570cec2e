"""The admin's lists pass query-string values straight to the database, and Postgres refuses a
NUL character in text (a 500). A NUL is never part of a real filter: such an address is a 404."""

from django.conf import settings
from django.http import Http404


class AdminNulQueryMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.prefix = "/" + settings.ADMIN_PATH.lstrip("/")

    def __call__(self, request):
        if request.path.startswith(self.prefix) and any(
            "\x00" in key or any("\x00" in value for value in values)
            for key, values in request.GET.lists()
        ):
            raise Http404("No such page.")
        return self.get_response(request)
