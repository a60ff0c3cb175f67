from django.urls import path

from certbody.workspace import views

app_name = "workspace"

urlpatterns = [
    path("<slug:key>/", views.desk_list, name="list"),
    path("<slug:key>/new/", views.desk_create, name="create"),
    path("<slug:key>/<int:pk>/", views.desk_object, name="object"),
    path("<slug:key>/<int:pk>/<slug:action>/", views.desk_action, name="action"),
]
