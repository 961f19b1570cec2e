from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from tracker import observability

admin.site.site_header = "Transfer Tracker editors"
admin.site.site_title = "Transfer Tracker admin"
admin.site.index_title = "Curate agreements, transfers and sources"

urlpatterns = [
    path("healthz", observability.healthz, name="healthz"),
    path("readyz", observability.readyz, name="readyz"),
    path(settings.ADMIN_PATH, admin.site.urls),
    path("", include("agreements.urls")),
]
