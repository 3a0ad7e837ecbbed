"""One view returning, for each benchmarked URL, the exact body and Content-Type that kehu
returned for it (captured by bench.http_bench into the file named by BENCH_BARE_RESPONSES)."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.urls import path

_RESPONSES = {
    url: (base64.b64decode(item["body_b64"]), item["content_type"])
    for url, item in json.loads(Path(os.environ["BENCH_BARE_RESPONSES"]).read_text()).items()
}


def captured(request: HttpRequest) -> HttpResponse:
    body, content_type = _RESPONSES[request.path_info]
    response = HttpResponse(body, content_type=content_type)
    # kehu's CommonMiddleware sends Content-Length; without it gunicorn would chunk.
    response["Content-Length"] = str(len(body))
    return response


urlpatterns = [path(url.lstrip("/"), captured) for url in _RESPONSES]
