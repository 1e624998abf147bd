"""CDISC ADaM derivation and XPT/CSV reading and writing."""
