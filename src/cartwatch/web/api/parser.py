"""Request bodies are parsed as strictly as the CLI's input (``schemas.strict_json``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.parser import Parser

from cartwatch.schemas import strict_json


class StrictJsonParser(Parser):
    """Refuses duplicate keys, NaN/Infinity and overflowing numbers instead of guessing.

    django-ninja turns any parser exception into a bare 400; ``errors.install`` maps a
    ``JsonProblems`` cause to the API's usual 422 with the field path of each problem.
    """

    def parse_body(self, request: HttpRequest) -> Any:
        return strict_json.loads(request.body)
