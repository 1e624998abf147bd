"""URLs of the HTML pages. Each view declares its permission with ``@scoped`` (views.py)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from cartwatch.web.ui import views

app_name = "ui"

P = "patients/<str:patient_id>/"

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("worklist/", views.worklist, name="worklist"),
    path("patients/", views.patient_list, name="patients"),
    path("patients/new/", views.patient_new, name="patient_new"),
    path(P, views.patient_detail, name="patient"),
    path(P + "eligibility/new/", views.eligibility_new, name="eligibility_new"),
    path(P + "prior-lines/new/", views.prior_line_new, name="prior-lines_new"),
    path(P + "cell-therapy/new/", views.cell_therapy_new, name="cell-therapy_new"),
    path(P + "assessment/new/", views.assessment_new, name="assessment_new"),
    path(P + "treatments/new/", views.treatment_new, name="treatments_new"),
    path(P + "labs/new/", views.lab_new, name="labs_new"),
    path(P + "responses/new/", views.response_new, name="responses_new"),
    path(P + "mrd/new/", views.mrd_new, name="mrd_new"),
    path(P + "followup/new/", views.followup_new, name="followup_new"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/km-<str:endpoint>.png", views.km_png, name="km"),
    path("network/", views.network, name="network"),
    path("exports/", views.export_page, name="exports"),
    # Before the generic format route, which would otherwise take "report" as a format.
    path("exports/report/", views.report_download, name="report_download"),
    path("exports/<str:fmt>/", views.export_download, name="export_download"),
    path("audit/", views.audit_log, name="audit"),
]
