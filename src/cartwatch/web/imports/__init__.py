"""What was imported from outside (FHIR): one row per resource, so a re-import is a no-op."""
