"""Typer command line: parse, call, print."""
