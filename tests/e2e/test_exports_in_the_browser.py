"""A researcher counts the runs of a definition, saves it as a cohort, exports it as CSV,
watches the status page until the export is done, downloads the ZIP and finds the manifest
naming the cohort, every file with its checksum, and the de-identification applied; at
1280 and 390 px wide (screenshots under /tmp/exports_shots)."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import login

SHOTS = Path("/tmp/exports_shots")


@pytest.mark.parametrize("width", [1280, 390])
def test_cohort_to_export_to_download_to_manifest(page: Page, tmp_path: Path, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    login(page, "researcher", then="/research/cohorts")
    page.click("button:has-text('Count runs')")
    expect(page.locator("#count .rc-count")).to_contain_text("run")
    page.fill("input[name=title]", "Every run, browser test")
    page.click("button:has-text('Save cohort')")
    row = page.locator("tr", has_text="Every run, browser test")
    expect(row).to_be_visible()
    row.locator("button:has-text('Export')").click()
    page.wait_for_url("**/research/exports/*")
    download_link = page.locator("a:has-text('Download')")
    expect(download_link).to_be_visible()  # the page refreshes itself until done
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"status_{width}.png"), full_page=True)
    box = download_link.bounding_box()
    assert box is not None and box["x"] + box["width"] <= width + 1
    with page.expect_download() as d:
        download_link.click()
    path = tmp_path / "export.zip"
    d.value.save_as(path)
    with zipfile.ZipFile(path) as z:
        manifest = json.loads(z.read("manifest.json"))
        assert manifest["cohort"]["name"] == "Every run, browser test"
        assert manifest["deidentification"]["identified"] is False
        for f in manifest["files"]:
            assert hashlib.sha256(z.read(f["file"])).hexdigest() == f["sha256"]
