from django.urls import path

from reporting import layout_views, views

app_name = "reporting"

urlpatterns = [
    path("reports/<int:pk>/preview/", layout_views.preview, name="preview"),
    path("reports/<int:pk>/<str:fmt>/", views.download, name="download"),
    path("layouts/", layout_views.layouts_page, name="layouts"),
    path("layouts/confirm/", layout_views.layout_confirm, name="layout_confirm"),
    path("layouts/<int:pk>/activate/", layout_views.layout_activate, name="layout_activate"),
]
