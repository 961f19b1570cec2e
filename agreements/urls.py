from django.contrib.sitemaps import views as sitemap_views
from django.urls import path

from agreements import api, release_views, sitemaps, views
from tracker.query import reads_query

# Addresses with one version for every language: downloads, the API, feeds, sitemaps and data
# releases are language-neutral (codes and the English record texts). Before the pages, so that
# `agreements/feed/` is not taken for an agreement's slug.
neutral_urlpatterns = [
    path("agreements/feed/", views.AgreementsFeed(), name="agreement-feed"),
    path("<str:dataset>/export.<str:fmt>", api.download, name="download"),
    path("api/", api.api_index, name="api-index"),
    # Before the versions: "latest" is not one.
    path("data/releases/latest.zip", release_views.latest_release, name="release-latest"),
    path(
        "data/releases/<str:version>.zip",
        release_views.release_download,
        name="release-download",
    ),
    path("api/openapi.json", api.openapi_schema, name="api-schema"),
    path("api/<str:dataset>/", api.api_list, name="api-list"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("changes/feed/", views.ChangesFeed(), name="change-feed"),
    path(
        "sitemap.xml",
        reads_query()(sitemap_views.index),
        {"sitemaps": sitemaps.SITEMAPS},
        name="sitemap",
    ),
    path(
        "sitemap-<slug:section>.xml",
        reads_query("p")(sitemap_views.sitemap),
        {"sitemaps": sitemaps.SITEMAPS},
        name="django.contrib.sitemaps.views.sitemap",
    ),
    path("countries/<slug:code>/feed/", views.AgreementsFeed(), name="country-feed"),
]

# The pages people read: one address per language (tracker/urls.py puts them under
# i18n_patterns: /agreements/ in English, /es/agreements/ in Spanish, …).
page_urlpatterns = [
    path("", views.home, name="home"),
    path("agreements/", views.AgreementListView.as_view(), name="agreement-list"),
    path("data/", release_views.data_page, name="data"),
    path("agreements/<slug:slug>/", views.AgreementDetailView.as_view(), name="agreement-detail"),
    path("agreements/<slug:slug>/changes/", views.change_log, name="agreement-changes"),
    path("changes/", views.change_log, name="change-log"),
    path("search/", views.search_page, name="search"),
    path("trends/", views.trends, name="trends"),
    path("about/", views.about, name="about"),
    path("countries/", views.country_list, name="country-list"),
    path("countries/<slug:code>/", views.country_detail, name="country-detail"),
    path("transfers/", views.TransferListView.as_view(), name="transfer-list"),
    path("sources/", views.SourceListView.as_view(), name="source-list"),
    path("transfers/<int:pk>/", views.TransferDetailView.as_view(), name="transfer-detail"),
    path("cases/", views.CaseListView.as_view(), name="case-list"),
    path("cases/<slug:slug>/", views.CaseDetailView.as_view(), name="case-detail"),
]
