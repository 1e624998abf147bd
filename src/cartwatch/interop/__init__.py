"""Data in and data out: federated outcomes across centres, FHIR R4, registry exports.

Sits beside ``outcomes``/``adam``/``synth`` (it reuses their statistics and derivations) and
above ``centre``/``batch``/``schemas``/``clinical``; no Django, no Typer (the CLI and the web
app call it). See ``../shared/reference/interop-contract.md``.
"""
