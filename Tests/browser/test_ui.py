#!/usr/bin/env python3
"""The web UI in Debian's chromium (headless, via chromedriver and Selenium), against the real server and the
MediaMTX simulator, each started here on free ports with a fresh SQLite file. Screenshots of the main pages at
1280x800 go to screenshots/ (ignored by git). Run by scripts/test.sh after `swift build --build-tests`."""
import json, os, shutil, socket, subprocess, tempfile, time, urllib.request

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, ".build", "debug")
SHOTS = os.path.join(ROOT, "screenshots")
PASSWORD = "admin password 1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, seconds=20):
    end = time.time() + seconds
    while time.time() < end:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def main():
    work = tempfile.mkdtemp(prefix="mtx-ui-")
    api_port, playback_port, port = free_port(), free_port(), free_port()
    record_path = os.path.join(work, "recordings", "%path", "%Y-%m-%d_%H-%M-%S-%f")
    env = dict(os.environ, MTX_COMPANION_MEDIAMTX_RECORD_PATH=record_path, MTX_COMPANION_DATABASE_PATH=os.path.join(work, "catalog.sqlite"), MTX_COMPANION_SERVER_PORT=str(port),
               MTX_COMPANION_MEDIAMTX_API_ADDRESS=f"http://127.0.0.1:{api_port}",
               MTX_COMPANION_MEDIAMTX_PLAYBACK_ADDRESS=f"http://127.0.0.1:{playback_port}",
               MTX_COMPANION_SERVER_UI_DIRECTORY=os.path.join(ROOT, "ui"),
               # The companion wires MediaMTX's hooks to mtx-hook at start, so the simulator reports as MediaMTX would.
               MTX_COMPANION_MEDIAMTX_MANAGE_HOOKS="true", MTX_COMPANION_MEDIAMTX_HOOK_COMMAND=os.path.join(BIN, "mtx-hook"))
    processes = []
    try:
        processes.append(subprocess.Popen([os.path.join(BIN, "mediamtx-sim"), "--api-port", str(api_port), "--playback-port", str(playback_port),
                                           "--record-path", record_path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        subprocess.run([os.path.join(BIN, "mtx-companion"), "users", "add", "admin", "--role", "admin", "--password-stdin", "--env", "test"],
                       input=PASSWORD + "\n", text=True, env=env, cwd=ROOT, check=True, capture_output=True)
        processes.append(subprocess.Popen([os.path.join(BIN, "mtx-companion"), "serve", "--env", "test"], env=env, cwd=ROOT,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        base = f"http://127.0.0.1:{port}"
        wait_http(f"http://127.0.0.1:{api_port}/v3/info")
        # What MediaMTX's environment must hold for mtx-hook (mediamtx.yml.example).
        sim(f"http://127.0.0.1:{api_port}", "hook-environment", {
            "MTX_COMPANION_URL": base, "MTX_COMPANION_HOOK_TOKEN": "test-hook-token", "MTX_COMPANION_SPOOL_DIR": os.path.join(work, "spool"),
            "MTX_COMPANION_HOOK_DEADLINE_MS": "15000"})
        # The companion's reconciler wires the hooks at start: wait until MediaMTX's path defaults call mtx-hook.
        deadline = time.time() + 20
        while time.time() < deadline:
            defaults = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{api_port}/v3/config/pathdefaults/get").read())
            if "mtx-hook" in (defaults.get("runOnRecordSegmentComplete") or ""):
                break
            time.sleep(0.2)
        else:
            raise RuntimeError("the companion did not wire MediaMTX's hooks")
        wait_http(base + "/")
        run(base, f"http://127.0.0.1:{api_port}")
    finally:
        for p in processes:
            p.terminate()
            p.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


def sim(sim_base, control, body):
    request = urllib.request.Request(f"{sim_base}/_sim/{control}", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    return json.loads(urllib.request.urlopen(request).read() or b"null")


def indexed(base, driver, source_id):
    """The source's complete segments, read with the UI's own token."""
    token = driver.execute_script("return sessionStorage.getItem('token')")
    request = urllib.request.Request(f"{base}/api/v1/sources/{source_id}/record/files", headers={"Authorization": f"Bearer {token}"})
    return [s for s in json.loads(urllib.request.urlopen(request).read())["items"] if s["state"] == "complete"]


def run(base, sim_base):
    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,800", "--lang=en-US"]:
        options.add_argument(argument)
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    driver = webdriver.Chrome(options=options, service=service)
    wait = WebDriverWait(driver, 15)
    os.makedirs(SHOTS, exist_ok=True)

    def shot(name):
        driver.save_screenshot(os.path.join(SHOTS, f"{name}.png"))

    def go(hash_route, element_id):
        driver.get(base + "/#/")  # a different hash first, so the page is rendered anew
        driver.get(base + "/" + hash_route)
        return wait.until(EC.presence_of_element_located((By.ID, element_id)))

    try:
        # Log in.
        driver.get(base + "/")
        wait.until(EC.presence_of_element_located((By.ID, "login-form")))
        shot("login")
        driver.find_element(By.NAME, "username").send_keys("admin")
        driver.find_element(By.NAME, "password").send_keys("wrong password")
        driver.find_element(By.CSS_SELECTOR, "#login-form button").click()
        error = wait.until(EC.visibility_of_element_located((By.ID, "error")))
        assert error.text == "Wrong user name or password.", error.text
        password = driver.find_element(By.NAME, "password")
        password.clear()
        password.send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "#login-form button").click()
        wait.until(EC.presence_of_element_located((By.ID, "sources")))

        # A pull source and a push source; the push URL with its key and the two OBS fields.
        form = go("#/sources/new", "new-source-form")
        form.find_element(By.ID, "source-name").send_keys("Front door")
        form.find_element(By.ID, "source-url").send_keys("rtsp://192.168.1.20:554/stream1")
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait.until(EC.presence_of_element_located((By.ID, "created-source")))
        assert not driver.find_elements(By.ID, "push-panel"), "a pull source has no push URL"

        form = go("#/sources/new", "new-source-form")
        form.find_element(By.ID, "source-name").send_keys("OBS studio")
        Select(form.find_element(By.ID, "source-kind")).select_by_value("push")
        assert not form.find_element(By.ID, "source-url").is_displayed(), "push sources take no URL"
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        push_url = wait.until(EC.presence_of_element_located((By.ID, "push-url"))).text
        server, key = driver.find_element(By.ID, "obs-server").text, driver.find_element(By.ID, "obs-key").text
        assert push_url.startswith("rtmp://127.0.0.1:1935/live/OBS-studio-") and "?key=" in push_url, push_url
        assert server == "rtmp://127.0.0.1:1935/live" and server + "/" + key == push_url, (server, key)
        shot("new-push-source")

        # The simulator's publisher comes online; MediaMTX runs mtx-hook, which reports it: the status dot turns live
        # without a reload.
        table = go("#/sources", "sources")
        row = table.find_element(By.XPATH, ".//tr[td/a[text()='OBS studio']]")
        path = row.get_attribute("data-path")
        assert row.find_element(By.CSS_SELECTOR, ".dot").get_attribute("data-live") == "false"
        time.sleep(0.5)  # the live event stream is open once the page has rendered
        sim(sim_base, "publish", {"path": path, "source_type": "rtmpConn"})
        wait.until(lambda _: driver.find_element(By.CSS_SELECTOR, f'tr[data-path="{path}"] .dot').get_attribute("data-live") == "true")
        shot("sources")

        # Start recording in the UI; the simulator's publisher records two real 2 s segments (ffmpeg) and runs mtx-hook
        # for each; they appear on the day's timeline, and a click plays from there.
        source_id = driver.find_element(By.CSS_SELECTOR, f'tr[data-path="{path}"]').get_attribute("data-id")
        go(f"#/sources/{source_id}", "timeline")
        driver.find_element(By.XPATH, "//button[text()='Start recording']").click()
        wait.until(EC.presence_of_element_located((By.XPATH, "//button[text()='Stop recording']")))
        files = sim(sim_base, "record", {"path": path, "segments": 2, "duration": 2})["files"]
        assert len(files) == 2, files
        deadline = time.time() + 20
        while time.time() < deadline and len(indexed(base, driver, source_id)) < 2:
            time.sleep(0.2)
        assert [s["file_path"] for s in indexed(base, driver, source_id)] == files
        axis = go(f"#/sources/{source_id}", "timeline")
        bars = axis.find_elements(By.CSS_SELECTOR, ".session")
        assert len(bars) == 1, f"two touching segments are one session: {len(bars)}"
        assert len(driver.find_elements(By.CSS_SELECTOR, "#segments tbody tr")) == 2
        webdriver.ActionChains(driver).move_to_element(bars[0]).click().perform()
        wait.until(lambda _: driver.find_element(By.ID, "player").get_attribute("src"))
        src = driver.find_element(By.ID, "player").get_attribute("src")
        assert "/get?" in src and "token=" in src, src
        answer = urllib.request.urlopen(src)
        assert answer.status == 200 and answer.headers["Content-Type"] == "video/mp4", answer.status
        assert len(answer.read()) > 1000, "the playback URL serves the recording"
        shot("source-recordings")

        # Stream assets, both ways.
        go("#/assets", "asset-from-url")
        form = driver.find_element(By.ID, "asset-from-url")
        form.find_element(By.NAME, "name").send_keys("Loading bay")
        form.find_element(By.NAME, "stream_url").send_keys("rtsp://192.168.1.30/live")
        form.find_element(By.NAME, "tags").send_keys("dock, north")
        form.find_element(By.CSS_SELECTOR, "button").click()
        wait.until(EC.presence_of_element_located((By.XPATH, "//table[@id='assets']//a[text()='Loading bay']")))
        form = wait.until(EC.presence_of_element_located((By.ID, "asset-from-source")))
        form.find_element(By.NAME, "name").send_keys("Front door asset")
        Select(form.find_element(By.NAME, "source_id")).select_by_visible_text(
            next(o.text for o in form.find_elements(By.TAG_NAME, "option") if o.text.startswith("Front door (")))
        form.find_element(By.CSS_SELECTOR, "button").click()
        link = wait.until(EC.presence_of_element_located((By.XPATH, "//table[@id='assets']//a[text()='Front door asset']")))
        shot("assets")

        # Deleting a source with assets: the 409 answer, readable.
        time.sleep(0.3)
        driver.find_element(By.XPATH, "//table[@id='assets']//a[text()='Front door asset']").click()
        wait.until(EC.presence_of_element_located((By.ID, "delete-source"))).click()
        driver.switch_to.alert.accept()
        error = wait.until(EC.visibility_of_element_located((By.ID, "error")))
        assert "stream asset(s) use this media source (Front door asset)" in error.text, error.text
        shot("source-detail")

        # Chinese.
        go("#/sources", "sources")
        Select(driver.find_element(By.ID, "language")).select_by_value("zh")
        wait.until(lambda _: driver.find_element(By.CSS_SELECTOR, "main h1").text == "媒体源")
        assert driver.find_element(By.CSS_SELECTOR, "nav a").text == "媒体源"
        shot("sources-zh")
        print("browser tests: passed (screenshots in screenshots/)")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
