from django.urls import path

from audits import agenda_views, views

app_name = "audits"

urlpatterns = [
    path("<int:audit_pk>/score-sheet/", views.score_sheet, name="score_sheet"),
    path("<int:audit_pk>/plan/", views.plan_document, name="plan_document"),
    path("<int:audit_pk>/plan/pdf/", agenda_views.plan_pdf, name="plan_pdf"),
    path("<int:audit_pk>/plan/agenda/", agenda_views.agenda_edit, name="agenda"),
    path("<int:audit_pk>/plan/agenda/row/", agenda_views.agenda_row, name="agenda_row"),
    path("<int:audit_pk>/score-sheet/open/", views.score_sheet_open, name="score_sheet_open"),
    path("score-items/<int:pk>/", views.score_item_update, name="score_item_update"),
    path(
        "score-sheets/<int:pk>/deductions/",
        views.special_deduction_add,
        name="special_deduction_add",
    ),
    path(
        "special-deductions/<int:pk>/remove/",
        views.special_deduction_remove,
        name="special_deduction_remove",
    ),
    path("score-sheets/<int:pk>/bonus/", views.special_bonus_set, name="special_bonus_set"),
    path("score-sheets/<int:pk>/submit/", views.score_sheet_submit, name="score_sheet_submit"),
    path("score-sheets/<int:pk>/reopen/", views.score_sheet_reopen, name="score_sheet_reopen"),
]
