"""Calibrated synthetic centre cohorts."""
