"""Centres, who belongs to which centre in which role, and API tokens for scripts.

Decision: a user has at most one membership (one centre, one role). Scoping is then a
single lookup with no "which centre am I acting for?" ambiguity; someone who works for two
centres gets two accounts, each with its own audit trail. The network reviewer is the one
role without a centre: it sees pooled aggregates across centres and never patient rows.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    CENTRE_ADMIN = "centre_admin", "Centre administrator"
    PHYSICIAN = "physician", "Physician"
    NURSE = "nurse", "Nurse"
    DATA_MANAGER = "data_manager", "Data manager"
    RESEARCHER = "researcher", "Researcher (read-only, pseudonymised)"
    NETWORK_REVIEWER = "network_reviewer", "Network reviewer (aggregates only)"


class Centre(models.Model):
    code = models.SlugField(max_length=32, unique=True, help_text="Short code, e.g. 'MUC'.")
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("code",)

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class Membership(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership"
    )
    centre = models.ForeignKey(
        Centre, on_delete=models.PROTECT, null=True, blank=True, related_name="memberships"
    )
    role = models.CharField(max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = (
            # Every role except the network reviewer works inside exactly one centre.
            models.CheckConstraint(
                condition=models.Q(role=Role.NETWORK_REVIEWER) | models.Q(centre__isnull=False),
                name="membership_centre_required_unless_reviewer",
            ),
            models.CheckConstraint(
                condition=~models.Q(role=Role.NETWORK_REVIEWER) | models.Q(centre__isnull=True),
                name="membership_reviewer_has_no_centre",
            ),
        )

    def __str__(self) -> str:
        where = self.centre.code if self.centre else "network"
        return f"{self.user} ({self.role} @ {where})"


TOKEN_PREFIX = "cw_"


def hash_token(raw: str) -> str:
    # Tokens are 256-bit random, so a fast unsalted hash is enough (no brute force possible);
    # the database never holds a usable token.
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text="What the token is for.")
    prefix = models.CharField(max_length=12, help_text="First characters, to recognise it.")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    @classmethod
    def issue(cls, user: models.Model, name: str) -> tuple[ApiToken, str]:
        """Create a token; returns it with the raw value, which is shown once and never stored."""
        raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user, name=name, prefix=raw[:10], token_hash=hash_token(raw)
        )
        return token, raw
