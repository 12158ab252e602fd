"""The API docs pages work offline: Swagger UI and ReDoc load from the worker, not a CDN (issue 7, finding 9)."""

from __future__ import annotations

import re

import pytest


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_their_assets_from_the_worker(fakes, start_worker, page):
    """Every script and stylesheet the page loads is served by the worker itself."""
    worker = start_worker()
    html = worker.http.get(page)
    assert html.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html.text)
    assert assets, html.text[:500]
    for asset in assets:
        assert asset.startswith("/"), f"{page} loads {asset} from elsewhere"
        assert worker.http.get(asset).status_code == 200, asset
    assert "cdn.jsdelivr.net" not in html.text
