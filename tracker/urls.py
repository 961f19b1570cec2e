from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Transfer Tracker editors"
admin.site.site_title = "Transfer Tracker admin"
admin.site.index_title = "Curate agreements, transfers and sources"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("agreements.urls")),
]
