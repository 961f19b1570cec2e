from django.urls import path

from agreements import views

urlpatterns = [
    path("", views.home, name="home"),
    path("agreements/", views.AgreementListView.as_view(), name="agreement-list"),
    path("agreements/<slug:slug>/", views.AgreementDetailView.as_view(), name="agreement-detail"),
    path("countries/", views.country_list, name="country-list"),
    path("countries/<slug:code>/", views.country_detail, name="country-detail"),
    path("transfers/", views.TransferListView.as_view(), name="transfer-list"),
    path("transfers/<int:pk>/", views.TransferDetailView.as_view(), name="transfer-detail"),
]
