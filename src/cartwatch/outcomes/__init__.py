"""Outcome statistics, tables, plots and reports; every output names its method."""
