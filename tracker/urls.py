from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import path

from agreements.urls import neutral_urlpatterns, page_urlpatterns
from tracker import observability

admin.site.site_header = "Transfer Tracker editors"
admin.site.site_title = "Transfer Tracker admin"
admin.site.index_title = "Curate agreements, transfers and sources"

urlpatterns = [
    path("healthz", observability.healthz, name="healthz"),
    path("readyz", observability.readyz, name="readyz"),
    path(settings.ADMIN_PATH, admin.site.urls),
    *neutral_urlpatterns,
    # English without a prefix, the other languages with theirs (tracker/i18n.py).
    *i18n_patterns(*page_urlpatterns, prefix_default_language=False),
]
