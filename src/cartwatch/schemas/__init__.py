"""Pydantic input models shared by the CLI and the web API."""
