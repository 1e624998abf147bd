"""The import ledger: each FHIR resource imported into a centre, and the record it fed.

The identity is the resource's ``Type/id`` (or its fullUrl); the content hash tells an
unchanged re-import (skipped) from a changed resource (reported, not applied: the stored
record is corrected through the record pages with a reason for change). Several resources
can feed one record (three Observations → one blood count; a day's temperatures and drugs →
one draft CRS assessment).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from cartwatch.web.centres.models import Centre


class ImportedResource(models.Model):
    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="+")
    identity = models.CharField(max_length=512)
    sha256 = models.CharField(max_length=64)
    record_model = models.CharField(max_length=64, blank=True, default="")
    record_id = models.PositiveBigIntegerField(null=True, blank=True)
    imported_at = models.DateTimeField(auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=["centre", "identity"], name="imported_once_per_centre"),
        )

    def __str__(self) -> str:
        return f"{self.centre_id}:{self.identity}"
