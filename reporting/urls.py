from django.urls import path

from reporting import views

app_name = "reporting"

urlpatterns = [
    path("reports/<int:pk>/<str:fmt>/", views.download, name="download"),
]
