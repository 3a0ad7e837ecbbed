"""Print the API's OpenAPI schema as stable JSON (``make openapi`` writes docs/openapi.json)."""

from __future__ import annotations

import json
import os
from typing import Any


def _string_keys(value: Any) -> Any:
    # JSON keys are strings; ninja writes status codes as ints, openapi_extra as strings.
    if isinstance(value, dict):
        return {str(k): _string_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_string_keys(v) for v in value]
    return value


def schema_json() -> str:
    from django.conf import settings
    from django.utils.module_loading import import_string

    api = import_string(settings.KEHU_API)
    return (
        json.dumps(
            _string_keys(api.get_openapi_schema()), indent=2, sort_keys=True, ensure_ascii=False
        )
        + "\n"
    )


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")
    import django

    django.setup()
    print(schema_json(), end="")
