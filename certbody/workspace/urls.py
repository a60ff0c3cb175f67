from django.urls import path

from certbody.workspace import views

app_name = "workspace"

urlpatterns = [
    path("<slug:key>/", views.desk_list, name="list"),
    path("<slug:key>/new/", views.desk_create, name="create"),
    path("<slug:key>/bulk/", views.desk_bulk, name="bulk"),
    path("<slug:key>/filters/", views.desk_filter_save, name="filter-save"),
    path("<slug:key>/filters/<int:pk>/delete/", views.desk_filter_delete, name="filter-delete"),
    path("<slug:key>/<int:pk>/", views.desk_object, name="object"),
    path("<slug:key>/<int:pk>/<slug:action>/", views.desk_action, name="action"),
]
