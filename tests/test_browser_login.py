"""Browser (single sign-on) login, end to end in a real headless Chromium.

``ayon login --browser`` runs as a real subprocess; its "open the browser" goes through
Python's webbrowser to BROWSER, a small script (tests/browser_hand_over.py) that hands the
URL to this test, which opens it in Chromium driven over WebDriver (chromium-driver; the
selenium client from PyPI). The embedded server's login page logs in and redirects to the
launcher's one-shot loopback listener with the token, as the real AYON web UI does.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from conftest import isolated_env

USER, PASSWORD = "sso-artist", "Br0wser-Secr3t!"
TESTS_DIR = Path(__file__).parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from ayon_launcher.localserver.testing import start_test_server

    with start_test_server(tmp_path_factory.mktemp("browser-server"), demo=False) as running:
        running.store.create_user(USER, PASSWORD, full_name="An SSO artist")
        yield running


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
        print("SKIP reason: chromium and chromium-driver are not installed (.ci/apt/browser.txt)")
        pytest.skip("chromium and chromium-driver are not installed (.ci/apt/browser.txt)")
    webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(DRIVER))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def start_login(tmp_path: Path, server_url: str, **extra: str) -> tuple[subprocess.Popen, Path]:
    hand_over = tmp_path / "browser-url.txt"
    env = {**isolated_env(tmp_path, server_url),
           "BROWSER": f"{sys.executable} {TESTS_DIR / 'browser_hand_over.py'} %s",
           "BROWSER_HAND_OVER_FILE": str(hand_over), **extra}
    process = subprocess.Popen([sys.executable, "-m", "ayon_launcher", "login", "--browser"],
                               env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    return process, hand_over


def handed_over(hand_over: Path, process: subprocess.Popen) -> str:
    deadline = time.monotonic() + 60
    while not hand_over.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the launcher never opened the browser"
        time.sleep(0.05)
    return hand_over.read_text()


def test_browser_login_end_to_end(tmp_path, server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    process, hand_over = start_login(tmp_path, server.url)
    url = handed_over(hand_over, process)
    assert url.startswith(f"{server.url}/?auth_redirect=http%3A%2F%2F127.0.0.1%3A")

    browser.get(url)
    browser.find_element(By.ID, "name").send_keys(USER)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "submit").click()
    WebDriverWait(browser, 30).until(lambda d: "Logged in to AYON" in d.page_source)
    assert f"logged in as {USER}" in browser.page_source
    assert browser.current_url.startswith("http://127.0.0.1:")

    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert f"Logged in to {server.url} as {USER}." in out
    assert PASSWORD not in out + err
    stored = json.loads((tmp_path / "config" / "credentials.json").read_text())
    token = stored[f"AYON launcher {server.url}"]["token"]
    assert token not in out + err
    me = requests.get(f"{server.url}/api/users/me", timeout=10,
                      headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["name"] == USER
    # The listener is closed once the login came back.
    with pytest.raises(requests.ConnectionError):
        requests.get(browser.current_url, timeout=5)


def test_wrong_password_in_the_browser_page_stays_there(tmp_path, server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    process, hand_over = start_login(tmp_path, server.url, AYON_BROWSER_LOGIN_TIMEOUT="3")
    try:
        browser.get(handed_over(hand_over, process))
        browser.find_element(By.ID, "name").send_keys(USER)
        browser.find_element(By.ID, "password").send_keys("not-the-password")
        browser.find_element(By.ID, "submit").click()
        WebDriverWait(browser, 30).until(
            lambda d: "Wrong user name or password" in d.find_element(By.ID, "error").text)
        _out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 4
    assert err.strip().splitlines()[-1].startswith(
        "ayon: error: the browser did not come back with a login to ")
    assert "within 3 s" in err and "Traceback" not in err


def test_browser_that_never_comes_back_times_out(tmp_path, server):
    process, hand_over = start_login(tmp_path, server.url, AYON_BROWSER_LOGIN_TIMEOUT="1")
    _out, err = process.communicate(timeout=60)
    assert hand_over.exists()  # the browser was asked to open the page
    assert process.returncode == 4, err
    lines = [line for line in err.splitlines() if line.startswith("ayon: ")]
    assert len(lines) == 1 and "did not come back with a login" in lines[0], err
    assert not (tmp_path / "config" / "credentials.json").exists()


def test_listener_refuses_a_forged_token_and_other_paths(server):
    """Another page (or program) cannot hand the launcher a made-up login."""
    import threading

    from ayon_launcher.bootstrapper.connection.browser_login import BrowserLogin
    from ayon_launcher.support.errors import AuthenticationRequired

    login = BrowserLogin(server.url)
    outcome: list = []

    def wait() -> None:
        try:
            outcome.append(login.wait(timeout=20))
        except AuthenticationRequired as exc:
            outcome.append(exc)

    thread = threading.Thread(target=wait)
    thread.start()
    base = f"http://127.0.0.1:{login.port}"
    guessed = requests.get(f"{base}/ayon-login/guess?token={server.login_token()}", timeout=10)
    assert guessed.status_code == 404 and not outcome
    forged = requests.get(f"{login.redirect_url}?token=made-up", timeout=10)
    assert forged.status_code == 400
    thread.join(20)
    assert isinstance(outcome[0], AuthenticationRequired)
    assert "did not accept" in str(outcome[0])


def test_login_page_accepts_only_loopback_redirects(server):
    ok = requests.get(server.url, params={"auth_redirect": "http://127.0.0.1:9/x"}, timeout=10)
    assert ok.status_code == 200 and 'id="password"' in ok.text
    for bad in ("https://evil.example/steal", "http://127.0.0.1:9/x?a=1", "javascript:alert(1)"):
        refused = requests.get(server.url, params={"auth_redirect": bad}, timeout=10)
        assert refused.status_code == 400 and "not valid" in refused.text
        assert "evil.example" not in refused.text.split('id="redirect"')[1].split("</script>")[0]
    plain = requests.get(server.url, timeout=10)  # the front page, as without a redirect
    assert plain.status_code == 200 and 'id="password"' not in plain.text
