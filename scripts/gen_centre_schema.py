#!/usr/bin/env python
"""Regenerate src/cartwatch/centre/schema/*.schema.json from the centre row models.

Run after changing src/cartwatch/centre/records.py or a clinical input schema it extends:

    .venv/bin/python scripts/gen_centre_schema.py

tests/unit/centre/test_schema_files.py fails while the committed files are stale.
"""

from __future__ import annotations

from cartwatch.centre.jsonschema import write_all


def main() -> None:
    for path in write_all():
        print(path)


if __name__ == "__main__":
    main()
