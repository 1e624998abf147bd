"""URLs of the HTML pages. Each view declares its permission with ``@scoped`` (views/)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from cartwatch.web.ui.views import (
    centre,
    edit,
    entry,
    fhir,
    layout,
    patients,
    registry,
    users,
    welcome,
)

app_name = "ui"

P = "patients/<str:patient_id>/"
R = P + "records/<str:kind>/<int:pk>/"
#: The patient row itself is corrected, verified and deleted by the same views.
WHOLE = {"kind": "patient", "pk": 0}

urlpatterns = [
    path("", welcome.home, name="home"),
    path("welcome/", welcome.welcome, name="welcome"),
    path("accounts/login/", layout.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("worklist/", patients.worklist, name="worklist"),
    path("patients/", patients.patient_list, name="patients"),
    path("patients/new/", entry.patient_new, name="patient_new"),
    path(P, patients.patient_detail, name="patient"),
    path(P + "fhir-bundle/", fhir.patient_bundle, name="patient_fhir"),
    path(P + "eligibility/new/", entry.eligibility_new, name="eligibility_new"),
    path(P + "prior-lines/new/", entry.prior_line_new, name="prior-lines_new"),
    path(P + "cell-therapy/new/", entry.cell_therapy_new, name="cell-therapy_new"),
    path(P + "assessment/new/", entry.assessment_new, name="assessment_new"),
    path(P + "treatments/new/", entry.treatment_new, name="treatments_new"),
    path(P + "labs/new/", entry.lab_new, name="labs_new"),
    path(P + "responses/new/", entry.response_new, name="responses_new"),
    path(P + "mrd/new/", entry.mrd_new, name="mrd_new"),
    path(P + "followup/new/", entry.followup_new, name="followup_new"),
    path(R, edit.record_page, name="record"),
    path(R + "edit/", edit.record_edit, name="record_edit"),
    path(R + "delete/", edit.record_delete, name="record_delete"),
    path(R + "verify/", edit.record_verify, name="record_verify"),
    path(P + "history/", edit.record_page, WHOLE, name="patient_history"),
    path(P + "edit/", edit.record_edit, WHOLE, name="patient_edit"),
    path(P + "delete/", edit.record_delete, WHOLE, name="patient_delete"),
    path(P + "verify/", edit.record_verify, WHOLE, name="patient_verify"),
    path(
        P + "records/eligibility/<int:pk>/rerun/", edit.eligibility_rerun, name="eligibility_rerun"
    ),
    path("dashboard/", centre.dashboard, name="dashboard"),
    path("dashboard/km-<str:endpoint>.png", centre.km_png, name="km"),
    path("network/", centre.network, name="network"),
    path("exports/", centre.export_page, name="exports"),
    # Before the generic format route, which would otherwise take "report" as a format.
    path("exports/report/", centre.report_download, name="report_download"),
    path("exports/<str:fmt>/", centre.export_download, name="export_download"),
    path("imports/fhir/", fhir.import_page, name="fhir_import"),
    path("registry/", registry.overview, name="registry"),
    path("registry/download/", registry.download, name="registry_download"),
    path("registry/<str:patient_id>/", registry.patient_page, name="registry_patient"),
    path("audit/", centre.audit_log, name="audit"),
    path("data-quality/", centre.data_quality, name="data_quality"),
    path("centre/users/", users.user_list, name="users"),
    path("centre/users/new/", users.user_new, name="user_new"),
    path("centre/users/<int:user_id>/", users.user_edit, name="user_edit"),
    path("centre/users/<int:user_id>/password/", users.user_password, name="user_password"),
    path("centre/tokens/", users.token_list, name="tokens"),
    path("centre/tokens/<int:token_id>/revoke/", users.token_revoke, name="token_revoke"),
]
