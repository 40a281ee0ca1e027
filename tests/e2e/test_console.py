"""The demo as a new user meets it: `sharpeyes demo`, then the first page in headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import MODELS
from tests.support.processes import PlatformProcess
from tests.support.waiting import wait_for

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformProcess]:
    models = {"SHARPEYES_ANALYTICS__MODELS_DIR": str(MODELS)}  # what `make test` installed, as `make demo` does
    process = PlatformProcess(["demo", "--data-dir", str(tmp_path_factory.mktemp("demo"))], env=models)
    try:
        process.wait_healthy(180)
        yield process
    finally:
        code = process.stop()
        assert code in (0, 130, -2), f"the platform did not stop cleanly ({code}):\n{process.output}"
        assert "Application shutdown complete" in process.output


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: `make test` installs Debian's chromium package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-US")
    yield context.new_page()
    context.close()


def _sign_in(page: Page, demo: PlatformProcess, password: str) -> None:
    page.goto(demo.base_url)
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", password)
    page.click("form#login button[type=submit]")


def test_demo_prints_a_login_and_shows_live_cameras(demo: PlatformProcess, page: Page) -> None:
    password = demo.printed(r"password / 密码: (\S+)")
    assert "user / 用户名: admin" in demo.output
    _sign_in(page, demo, password)
    expect(page.locator("form#login")).to_be_hidden()
    tiles = page.locator("article.camera")
    expect(tiles.nth(2)).to_be_visible(timeout=15_000)
    count = tiles.count()
    assert count >= 3
    online = page.locator('article.camera[data-status="online"] img')
    expect(online.nth(2)).to_be_visible(timeout=20_000)
    first = online.first.get_attribute("data-frame-time") or ""
    expect(online.first).not_to_have_attribute("data-frame-time", first, timeout=5_000)  # refreshed every second
    widths = page.eval_on_selector_all(
        'article.camera[data-status="online"] img', "imgs => imgs.map(i => i.naturalWidth)"
    )
    assert len(widths) >= 3
    assert all(width > 0 for width in widths)
    badge = page.locator("article.camera .badge.online").first
    assert badge.inner_text() == "online"
    page.click("#lang")
    expect(badge).to_have_text("在线")


def test_live_view_plays_frames_in_the_browser(demo: PlatformProcess, page: Page) -> None:
    _sign_in(page, demo, demo.printed(r"password / 密码: (\S+)"))
    tile = page.locator('article.camera[data-status="online"]').first
    expect(tile).to_be_visible(timeout=20_000)
    tile.click()
    expect(page.locator("#live")).to_be_visible()
    page.wait_for_function(
        "() => document.querySelector('#live video').getVideoPlaybackQuality().totalVideoFrames > 10",
        timeout=20_000,
    )
    lag_s = page.evaluate(
        "() => { const v = document.querySelector('#live video'); const b = v.buffered;"
        " return b.length ? b.end(b.length - 1) - v.currentTime : 99; }"
    )
    assert lag_s < 1.5, "the player keeps to the live edge"
    page.click("#live-close")
    expect(page.locator("#live")).to_be_hidden()


def test_alerts_from_the_sample_rules_appear_beside_the_wall_with_their_pictures(
    demo: PlatformProcess, page: Page
) -> None:
    if "real footage" not in demo.output:
        pytest.skip("the sample rules are drawn for the shared clips: set SHARPEYES_TEST_DATA")
    _sign_in(page, demo, demo.printed(r"password / 密码: (\S+)"))
    expect(page.locator("#alerts")).to_be_visible()
    expect(page.locator("#alerts-title")).to_have_text("Alerts")
    picture = page.locator("#alert-list li.alert.analytics img").first
    expect(picture).to_be_visible(timeout=90_000)  # the rules run on the sample cameras from the start
    page.wait_for_function(
        "() => { const i = document.querySelector('#alert-list li.alert.analytics img');"
        " return i && i.complete && i.naturalWidth > 0; }",
        timeout=15_000,
    )
    item = page.locator("#alert-list li.alert.analytics").first
    assert item.get_attribute("data-type", timeout=1_000) in {
        "analytics.line_crossing",
        "analytics.crowd",
        "analytics.loitering",
        "analytics.intrusion",
    }
    assert "路" in item.locator(".where").inner_text() or "大厅" in item.locator(".where").inner_text()
    page.click("#lang")
    expect(page.locator("#alerts-title")).to_have_text("告警")
    item.click()
    expect(page.locator("#live")).to_be_visible()


def test_the_search_page_finds_people_the_sample_cameras_saw(demo: PlatformProcess, page: Page, tmp_path: Path) -> None:
    if "real footage" not in demo.output:
        pytest.skip("the sample rules are drawn for the shared clips: set SHARPEYES_TEST_DATA")
    _sign_in(page, demo, demo.printed(r"password / 密码: (\S+)"))
    page.click("#search-toggle")
    expect(page.locator("#search")).to_be_visible()
    expect(page.locator("#wall")).to_be_hidden()
    page.fill("#search-text", "person")
    page.fill("#search-reason", "console test")

    def found() -> bool:  # tracks are kept as people leave the picture: ask again until some are
        page.click("#search-go")
        page.wait_for_function("() => document.getElementById('search-status').textContent !== '…'")
        return page.locator("#search-results article.result").count() > 0

    wait_for(found, 120, "tracks kept from the sample cameras", interval_s=3)
    expect(page.locator("#search-status")).to_contain_text("found")
    page.wait_for_function(
        "() => { const i = document.querySelector('#search-results article.result img');"
        " return i && i.complete && i.naturalWidth > 0; }",
        timeout=15_000,
    )
    assert page.locator("#search-results article.result .what").first.inner_text().startswith("person")
    example = page.locator("#search-results article.result").first.get_attribute("data-track-id")
    page.locator("#search-results article.result .alike").first.click()
    expect(page.locator("#search-status")).to_contain_text("ranked by likeness")
    expect(page.locator("#search-results article.result").first).to_have_attribute("data-track-id", example or "")
    photo = tmp_path / "red.png"
    Image.new("RGB", (60, 120), (200, 30, 30)).save(photo)
    page.set_input_files("#search-photo", str(photo))
    expect(page.locator("#search-photo-text")).to_contain_text("red.png")
    page.fill("#search-text", "person")
    page.click("#search-go")
    expect(page.locator("#search-status")).to_contain_text("ranked by likeness")
    page.click("#search-photo-label")
    expect(page.locator("#search-photo-text")).to_have_text("Photo")
    page.fill("#search-text", "zebra")
    page.click("#search-go")
    expect(page.locator("#search-status")).to_contain_text("zebra")
    page.click("#lang")
    expect(page.locator("#search-go")).to_have_text("搜索")
    page.click("#search-toggle")
    expect(page.locator("#wall")).to_be_visible()


def test_wrong_password_is_refused_on_the_page(demo: PlatformProcess, page: Page) -> None:
    _sign_in(page, demo, "not-the-password")
    expect(page.locator("#login-error")).to_have_text("wrong user name or password")
    expect(page.locator("#wall")).to_be_hidden()
    expect(page.locator("form#login")).to_be_visible()


def _api_token(page: Page, demo: PlatformProcess) -> str:
    password = demo.printed(r"password / 密码: (\S+)")
    answer = page.request.post(f"{demo.base_url}/api/v1/auth/login", data={"username": "admin", "password": password})
    assert answer.ok, answer.text()
    token: str = answer.json()["access_token"]
    return token


def _play_natively(page: Page, demo: PlatformProcess, url: str) -> None:
    """Chromium's own HLS player (no script library), as a player that cannot send headers would."""
    page.goto(f"{demo.base_url}/healthz")
    page.evaluate(
        "(url) => { const v = document.createElement('video'); v.muted = true; v.autoplay = true; v.id = 'hls';"
        " v.src = url; document.body.appendChild(v); v.play().catch(() => {}); }",
        url,
    )
    page.wait_for_function(
        "() => document.getElementById('hls').getVideoPlaybackQuality().totalVideoFrames > 10", timeout=30_000
    )


def test_live_hls_plays_in_the_browsers_own_player(demo: PlatformProcess, page: Page) -> None:
    token = _api_token(page, demo)
    headers = {"Authorization": f"Bearer {token}"}
    cameras = page.request.get(f"{demo.base_url}/api/v1/cameras", headers=headers).json()
    camera_id = cameras[0]["id"]
    _play_natively(page, demo, f"{demo.base_url}/api/v1/cameras/{camera_id}/live.m3u8?access_token={token}")
    assert page.evaluate("() => document.getElementById('hls').error") is None


def test_recorded_video_plays_back_in_the_browser(demo: PlatformProcess, page: Page) -> None:
    token = _api_token(page, demo)
    headers = {"Authorization": f"Bearer {token}"}
    camera_id = page.request.get(f"{demo.base_url}/api/v1/cameras", headers=headers).json()[1]["id"]
    since = datetime.now(UTC) - timedelta(seconds=5)
    plan = {"recording": {"mode": "continuous", "retention_days": 1}}
    assert page.request.patch(f"{demo.base_url}/api/v1/cameras/{camera_id}", data=plan, headers=headers).ok

    def recorded_s() -> float:
        end = datetime.now(UTC) + timedelta(seconds=5)
        answer = page.request.get(
            f"{demo.base_url}/api/v1/cameras/{camera_id}/recordings",
            params={"start": since.isoformat(), "end": end.isoformat()},
            headers=headers,
        ).json()
        return sum(
            (datetime.fromisoformat(s["end"]) - datetime.fromisoformat(s["start"])).total_seconds()
            for s in answer["segments"]
        )

    wait_for(lambda: recorded_s() >= 6, 60, "six seconds recorded", interval_s=0.5)
    query = urlencode(
        {
            "start": since.isoformat(),
            "end": (datetime.now(UTC) + timedelta(seconds=5)).isoformat(),
            "access_token": token,
        }
    )
    _play_natively(page, demo, f"{demo.base_url}/api/v1/cameras/{camera_id}/playback.m3u8?{query}")
    page.request.patch(
        f"{demo.base_url}/api/v1/cameras/{camera_id}", data={"recording": {"mode": "off"}}, headers=headers
    )


_REGION_SPREAD = """() => {
  const v = document.querySelector('#live video');
  if (!v.videoWidth || v.readyState < 2) return -1;  // between two streams: no picture to measure
  const c = document.createElement('canvas'); c.width = v.videoWidth; c.height = v.videoHeight;
  const g = c.getContext('2d'); g.drawImage(v, 0, 0);
  const x = Math.round(v.videoWidth * 0.15), y = Math.round(v.videoHeight * 0.15);
  const w = Math.round(v.videoWidth * 0.2), h = Math.round(v.videoHeight * 0.2);
  const d = g.getImageData(x, y, w, h).data; let sum = 0, sq = 0, n = 0;
  for (let i = 0; i < d.length; i += 4) { const l = (d[i] + d[i + 1] + d[i + 2]) / 3; sum += l; sq += l * l; n++; }
  const mean = sum / n; return Math.sqrt(Math.max(0, sq / n - mean * mean));
}"""
"""The spread of brightness inside the square from 15 % to 35 % of the picture: near 0 where a mask covers it; -1
while there is no picture."""


def test_privacy_masks_are_drawn_in_the_live_view_and_lifted_with_a_reason(demo: PlatformProcess, page: Page) -> None:
    token = _api_token(page, demo)
    headers = {"Authorization": f"Bearer {token}"}
    _sign_in(page, demo, demo.printed(r"password / 密码: (\S+)"))
    tile = page.locator('article.camera[data-status="online"]').first
    expect(tile).to_be_visible(timeout=20_000)
    camera_id = tile.get_attribute("data-camera-id") or ""
    masks_url = f"{demo.base_url}/api/v1/cameras/{camera_id}/privacy-masks"
    frames = "() => document.querySelector('#live video').getVideoPlaybackQuality().totalVideoFrames > 5"
    try:
        tile.click()
        page.wait_for_function(frames, timeout=20_000)
        page.wait_for_function(f"() => ({_REGION_SPREAD})() > 1.0", timeout=10_000)  # the scene, before any mask
        page.click("#mask-edit")
        layer = page.locator("#mask-layer")
        expect(layer).to_be_visible()
        box = layer.bounding_box()
        assert box is not None
        for x, y in ((0.1, 0.1), (0.4, 0.1), (0.4, 0.4), (0.1, 0.4)):
            layer.click(position={"x": box["width"] * x, "y": box["height"] * y})
        expect(layer.locator("circle")).to_have_count(4)
        page.click("#mask-save")
        saved = page.request.get(masks_url, headers=headers).json()
        assert len(saved) == 1
        assert [[round(v, 1) for v in point] for point in saved[0]["points"]] == [
            [0.1, 0.1], [0.4, 0.1], [0.4, 0.4], [0.1, 0.4]
        ]  # fmt: skip
        page.wait_for_function(frames, timeout=20_000)
        page.wait_for_function(f"() => {{ const s = ({_REGION_SPREAD})(); return s >= 0 && s < 1.0; }}", timeout=20_000)

        expect(page.locator("#mask-lift")).to_be_visible()
        page.click("#mask-lift")
        page.fill("#mask-reason", "核实警情")
        page.click("#mask-lift-go")
        page.wait_for_function(frames, timeout=20_000)
        page.wait_for_function(f"() => ({_REGION_SPREAD})() > 1.0", timeout=20_000)
        lifts = page.request.get(
            f"{demo.base_url}/api/v1/audit", params={"action": "mask.lift", "camera_id": camera_id}, headers=headers
        ).json()
        assert (lifts[0]["data"]["via"], lifts[0]["data"]["reason"]) == ("live", "核实警情")
    finally:
        page.request.put(masks_url, data={"polygons": []}, headers=headers)
