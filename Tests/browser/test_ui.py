#!/usr/bin/env python3
"""The web UI in Debian's chromium (headless, via chromedriver and Selenium), against the real server and the
MediaMTX simulator, each started here on free ports with a fresh SQLite file. The simulator serves no WebRTC: a
stand-in on the WebRTC address records the WHEP offer the page sends and refuses it, so the page must fall back to
MediaMTX's player link. Screenshots of the main pages at 1280x800 (and one at phone width) go to screenshots/
(ignored by git). Run by scripts/test.sh after `swift build --build-tests`; MTX_UI_BIN names another directory of the
binaries (mtx-companion, mediamtx-sim, mtx-hook) than .build/debug. Needs ffmpeg and ffprobe (the simulator records real
segments; the Recordings page's export is measured)."""
import datetime, http.server, json, os, re, shutil, socket, subprocess, tempfile, threading, time, urllib.error, urllib.parse, urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.actions.action_builder import ActionBuilder
from selenium.webdriver.common.actions.wheel_input import ScrollOrigin
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("MTX_UI_BIN") or os.path.join(ROOT, ".build", "debug")
SHOTS = os.path.join(ROOT, "screenshots")
PASSWORD = "admin password 1"
WHEP_REFUSAL = "this test's stand-in serves no WebRTC"
# The browser's time zone (set through DevTools): times show in it, UTC on hover. China keeps no summer time.
BROWSER_ZONE, BROWSER_OFFSET = "Asia/Shanghai", datetime.timezone(datetime.timedelta(hours=8))
HUMAN_SIZE = r"\d+(\.\d)? (KB|MB|GB)"
HUMAN_DURATION = r"\d+\.\d s|\d+ min \d\d s|\d+ h \d\d min"


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


class WHEPStandIn(http.server.BaseHTTPRequestHandler):
    """MediaMTX's WebRTC address as far as a browser's WHEP request goes: CORS as MediaMTX answers it (webrtcAllowOrigins
    "*"), every POSTed offer recorded, and refused with an error body in MediaMTX's shape."""
    offers = []

    def cors(self):
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Methods", "OPTIONS, GET, POST, PATCH, DELETE")
        self.send_header("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match")

    def do_OPTIONS(self):
        self.send_response(204)
        self.cors()
        self.end_headers()

    def do_POST(self):
        sdp = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        WHEPStandIn.offers.append({"path": self.path, "content_type": self.headers.get("Content-Type"), "sdp": sdp})
        body = json.dumps({"status": "error", "error": WHEP_REFUSAL}).encode()
        self.send_response(400)
        self.cors()
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_):
        pass


class CuttableProxy:
    """A TCP relay between the browser and the companion that can drop every connection at once and refuse new ones
    for a while: a real network blip as the browser sees it (DevTools' offline mode leaves open streams alone)."""

    def __init__(self, target_port):
        self.target = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.open = set()
        self.refusing = False
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            client, _ = self.listener.accept()
            with self.lock:
                refusing = self.refusing
            if refusing:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target))
            with self.lock:
                self.open.update([client, upstream])
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self.pump, args=(a, b), daemon=True).start()

    def pump(self, source, destination):
        try:
            while data := source.recv(65536):
                destination.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, destination):
                with self.lock:
                    self.open.discard(s)
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def cut(self):
        """Drops every connection and refuses new ones until `restore`."""
        with self.lock:
            self.refusing = True
            sockets = list(self.open)
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def restore(self):
        with self.lock:
            self.refusing = False


def main():
    work = tempfile.mkdtemp(prefix="mtx-ui-")
    api_port, playback_port, port = free_port(), free_port(), free_port()
    # A second MediaMTX node, which the test adds in the UI (the config has one, `default`).
    second_api_port, second_playback_port = free_port(), free_port()
    whep = http.server.ThreadingHTTPServer(("127.0.0.1", 0), WHEPStandIn)
    threading.Thread(target=whep.serve_forever, daemon=True).start()
    record_path = os.path.join(work, "recordings", "%path", "%Y-%m-%d_%H-%M-%S-%f")
    env = dict(os.environ, MTX_COMPANION_MEDIAMTX_RECORD_PATH=record_path, MTX_COMPANION_DATABASE_PATH=os.path.join(work, "catalog.sqlite"), MTX_COMPANION_SERVER_PORT=str(port),
               MTX_COMPANION_MEDIAMTX_API_ADDRESS=f"http://127.0.0.1:{api_port}",
               MTX_COMPANION_MEDIAMTX_PLAYBACK_ADDRESS=f"http://127.0.0.1:{playback_port}",
               MTX_COMPANION_MEDIAMTX_WEBRTC_ADDRESS=f"http://127.0.0.1:{whep.server_port}",
               MTX_COMPANION_SERVER_UI_DIRECTORY=os.path.join(ROOT, "ui"),
               # The companion wires MediaMTX's hooks to mtx-hook at start, so the simulator reports as MediaMTX would.
               MTX_COMPANION_MEDIAMTX_MANAGE_HOOKS="true", MTX_COMPANION_MEDIAMTX_HOOK_COMMAND=os.path.join(BIN, "mtx-hook"))
    processes = []
    try:
        processes.append(subprocess.Popen([os.path.join(BIN, "mediamtx-sim"), "--api-port", str(api_port), "--playback-port", str(playback_port),
                                           "--record-path", record_path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        processes.append(subprocess.Popen([os.path.join(BIN, "mediamtx-sim"), "--api-port", str(second_api_port), "--playback-port",
                                           str(second_playback_port), "--record-path", os.path.join(work, "second", "%path", "%Y-%m-%d_%H-%M-%S-%f")],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        subprocess.run([os.path.join(BIN, "mtx-companion"), "users", "add", "admin", "--role", "admin", "--password-stdin", "--env", "test"],
                       input=PASSWORD + "\n", text=True, env=env, cwd=ROOT, check=True, capture_output=True)
        processes.append(subprocess.Popen([os.path.join(BIN, "mtx-companion"), "serve", "--env", "test"], env=env, cwd=ROOT,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        base = f"http://127.0.0.1:{port}"
        proxy = CuttableProxy(port)
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
        wait_http(f"http://127.0.0.1:{second_api_port}/v3/info")
        run(f"http://127.0.0.1:{proxy.port}", f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{whep.server_port}", proxy, base,
            (f"http://127.0.0.1:{second_api_port}", f"http://127.0.0.1:{second_playback_port}"))
    finally:
        whep.shutdown()
        for p in processes:
            p.terminate()
            p.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


def sim(sim_base, control, body):
    request = urllib.request.Request(f"{sim_base}/_sim/{control}", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    return json.loads(urllib.request.urlopen(request).read() or b"null")


def call(base, path, token, method="GET", body=None):
    """The companion's API: (status, JSON body)."""
    request = urllib.request.Request(f"{base}/api/v1{path}", method=method, data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def moment(text):
    """An API time (RFC 3339, UTC) as seconds since 1970."""
    return datetime.datetime.fromisoformat(text).timestamp()


def shown_times(text):
    """An API time as the page shows it in the browser's zone, and in UTC (the hover text, and the text with the UTC
    setting on)."""
    at = datetime.datetime.fromisoformat(text)
    return at.astimezone(BROWSER_OFFSET).strftime("%Y-%m-%d %H:%M:%S"), at.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def unlabelled(driver):
    """Form fields of the page with no name for assistive technology (no label, aria-label or aria-labelledby)."""
    return driver.execute_script("""
        return [...document.querySelectorAll("input, select, textarea")].filter((el) => el.type !== "hidden" &&
            ![...(el.labels || [])].some((l) => l.textContent.trim()) && !el.getAttribute("aria-label") && !el.getAttribute("aria-labelledby"))
          .map((el) => el.outerHTML);""")


MISSING_SPAN = {"en": "This part of the recording is missing (deleted, or no longer on the MediaMTX node): it cannot be played.",
                "zh": "这段录像缺失（已被删除或已不在 MediaMTX 节点上），无法播放。"}


def rfc3339(ms):
    """Milliseconds since 1970 as an RFC 3339 UTC time."""
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def recordings_page(driver, wait, sim_base, api, go, shot, pages):
    """The Recordings page (#/recordings), with the simulator recording real 2 s segments (ffmpeg) on two sources: the
    bars match the API, zoom and pan by buttons and keys, Tab and Enter play, a click plays the moment clicked, playback
    crosses segments and (with a 2 s span) spans, speed and ±10 s, a range exported as MP4 (ffprobe reads its length)
    and saved as a clip (an asset made first for a source with none), a missing span's message in English and Chinese,
    and a phone's width with a pinch."""
    began = time.time()
    player = lambda: driver.find_element(By.ID, "rec-player")
    attr = lambda name: player().get_attribute(name)
    click = lambda element_id: driver.find_element(By.ID, element_id).click()
    keys = lambda *k: webdriver.ActionChains(driver).send_keys(*k).perform()
    video = lambda script: driver.execute_script(f"const v = document.querySelector('#rec-player video.active'); return v && v.{script}")

    def listing(start, end):
        query = urllib.parse.urlencode({"from": rfc3339(start), "to": rfc3339(end)})
        return {i["name"]: i for i in api(f"/recordings/sessions?{query}")["items"]}

    def tap(x, y):
        action = ActionBuilder(driver)
        action.pointer_action.move_to_location(round(x), round(y)).click()
        action.perform()

    def bar_box(source, index=0):
        """A bar's rectangle (viewport pixels) and the lanes' left edge and width."""
        return driver.execute_script("""const bars = document.querySelectorAll(`.rec-track[data-source="${arguments[0]}"] .session`);
            const bar = bars[arguments[1]]; if (!bar) return null; bar.scrollIntoView({block: "center"});
            const r = bar.getBoundingClientRect(), lanes = document.getElementById("rec-lanes").getBoundingClientRect();
            return {left: r.left, right: r.right, y: r.top + r.height / 2, lanes: lanes.left, width: lanes.width};""", source, index)

    # Two more sources record: Front door (pull, which had not recorded) and Back yard (push, new, with no asset), which
    # then goes offline (shaded); Side gate's recordings will go missing.
    sources = {s["name"]: s for s in api("/sources?page_size=100")["items"]}
    front = sources["Front door"]
    yard = api("/sources", "POST", {"name": "Back yard", "type": "push", "record_enabled": True})
    gate = api("/sources", "POST", {"name": "Side gate", "type": "push", "record_enabled": True})
    api(f"/sources/{front['id']}/record/start", "POST")
    for source, kind in ((front, "rtspSource"), (yard, "rtmpConn"), (gate, "rtmpConn")):
        sim(sim_base, "publish", {"path": source["path_name"], "source_type": kind})
    assert len(sim(sim_base, "record", {"path": front["path_name"], "segments": 6, "duration": 2})["files"]) == 6
    assert len(sim(sim_base, "record", {"path": yard["path_name"], "segments": 4, "duration": 2})["files"]) == 4
    assert len(sim(sim_base, "record", {"path": gate["path_name"], "segments": 1, "duration": 2})["files"]) == 1
    sim(sim_base, "unpublish", {"path": yard["path_name"]})
    now = time.time() * 1000
    counts = lambda got: [[s["segment_count"] for s in got[name]["sessions"]] for name in ("Front door", "Back yard", "Side gate")]
    wait.until(lambda _: counts(got := listing(now - 600000, now + 60000)) == [[6], [4], [1]] and got["Back yard"]["offline"])
    got = listing(now - 600000, now + 60000)
    front_session, yard_session = got["Front door"]["sessions"][0], got["Back yard"]["sessions"][0]
    f0, f_end = int(moment(front_session["start"]) * 1000), int(moment(front_session["end"]) * 1000)
    y0, y_end = moment(yard_session["start"]) * 1000, moment(yard_session["end"]) * 1000
    assert f_end - f0 == 12000, front_session

    # A minute around the recordings (in the address): a row per source as the API lists them, each session a bar where
    # its times fall on the axis; its start in the browser's zone, UTC on hover.
    frm, to = f0 - 40000, f0 + 20000
    route = f"#/recordings?from={frm}&to={to}"
    axis = go(route, "rec-axis")
    pages["recordings"] = route, "rec-axis"
    view = lambda: (int(axis.get_attribute("data-from")), int(axis.get_attribute("data-to")))
    assert view() == (frm, to), view()
    span = to - frm
    shown = listing(frm, to)
    drawn = driver.execute_script("""const lanes = document.getElementById("rec-lanes").getBoundingClientRect();
        return [...document.querySelectorAll(".rec-track[data-source]")].map((track) => [track.dataset.source,
          [...track.querySelectorAll(".session")].map((bar) => [bar.dataset.start, bar.getBoundingClientRect().left - lanes.left,
            bar.getBoundingClientRect().right - lanes.left, bar.title])]);""")
    width = driver.execute_script("return document.getElementById('rec-lanes').clientWidth")
    x = lambda at: (at - frm) / span * width
    assert [source for source, _ in drawn] == [i["source_id"] for i in shown.values()], (drawn, shown)
    for (_, bars), item in zip(drawn, shown.values()):
        sessions = sorted(item["sessions"], key=lambda s: s["start"])
        assert [b[0] for b in bars] == [s["start"] for s in sessions], (bars, sessions)
        for (_, left, right, title), s in zip(bars, sessions):
            assert abs(left - x(moment(s["start"]) * 1000)) < 1.5 and abs(right - max(x(moment(s["end"]) * 1000), left + 3)) < 1.5, (left, right, s)
            assert all(text in title for text in shown_times(s["start"])), (title, s["start"])
    assert driver.find_elements(By.CSS_SELECTOR, f'.rec-track[data-source="{yard["id"]}"] .off'), "offline is shaded"

    # Zoom and pan with the buttons, then with the keys on the axis (reached with Tab); Tab goes on to the rows, and
    # Enter on Front door's plays it from the cursor (the centre), or as here from the recording after it.
    timeline = driver.find_element(By.ID, "rec-timeline")
    for button, expected in [("rec-zoom-out", (frm - span // 2, to + span // 2)), ("rec-zoom-in", (frm, to)),
                             ("rec-earlier", (frm - span // 2, to - span // 2)), ("rec-later", (frm, to))]:
        click(button)
        wait.until(lambda _: view() == expected)
    # The sessions are read again for the range shown once it stops changing.
    wait.until(lambda _: (timeline.get_attribute("data-state"), timeline.get_attribute("data-loaded-from")) == ("ready", str(frm)))
    # The wheel zooms (out, here: a minute is the closest) around the pointer; a drag pans (and plays nothing).
    lanes = driver.find_element(By.ID, "rec-lanes")
    webdriver.ActionChains(driver).scroll_from_origin(ScrollOrigin.from_element(lanes), 0, 120).perform()
    wait.until(lambda _: view()[1] - view()[0] > span)
    zoomed = view()
    webdriver.ActionChains(driver).move_to_element(lanes).click_and_hold().move_by_offset(-50, 0).move_by_offset(-50, 0).release().perform()
    pixel = (zoomed[1] - zoomed[0]) / width
    wait.until(lambda _: abs(view()[0] - (zoomed[0] + 100 * pixel)) <= pixel and view()[1] - view()[0] == zoomed[1] - zoomed[0])
    assert not attr("data-source"), "a drag does not play"
    axis = go(route, "rec-axis")
    driver.execute_script("document.querySelector('.rec-presets button:last-child').focus()")
    keys(Keys.TAB)
    assert driver.switch_to.active_element.get_attribute("id") == "rec-axis", driver.switch_to.active_element.get_attribute("outerHTML")
    assert driver.switch_to.active_element.get_attribute("aria-label").startswith("Timeline")
    for key, expected in [("-", (frm - span // 2, to + span // 2)), ("+", (frm, to)), (Keys.ARROW_LEFT, (frm - span // 10, to - span // 10)),
                          (Keys.ARROW_RIGHT, (frm, to))]:
        keys(key)
        wait.until(lambda _: view() == expected)
    order = [i["source_id"] for i in shown.values()]
    for source in order[:order.index(front["id"]) + 1]:
        keys(Keys.TAB)
        assert driver.switch_to.active_element.get_attribute("data-source") == source
    keys(Keys.ENTER)
    wait.until(lambda _: attr("data-source") == front["id"] and attr("data-span-start") == str(f0))

    # A click a quarter into Front door's bar plays that moment (to a pixel); at 2x it plays on past the segment
    # boundary (2 s in the <video>); paused, -10 s goes back to the recording's start, +10 s 10 s on.
    box = bar_box(front["id"])
    at = (box["left"] + box["right"]) / 2 - (box["right"] - box["left"]) / 4
    tap(at, box["y"])
    clicked = frm + (round(at) - box["lanes"]) / box["width"] * span
    wait.until(lambda _: attr("data-span-start") != str(f0))
    assert abs(int(attr("data-span-start")) - clicked) <= span / box["width"] + 1, (attr("data-span-start"), clicked)
    Select(driver.find_element(By.ID, "rec-speed")).select_by_value("2")
    wait.until(lambda _: video("playbackRate") == 2)
    wait.until(lambda _: (video("currentTime") or 0) > 2.2)
    assert int(attr("data-position")) > int(attr("data-span-start")) + 2000
    click("rec-toggle")
    wait.until(lambda _: attr("data-state") == "paused")
    click("rec-back")
    wait.until(lambda _: abs(int(attr("data-position") or 0) - f0) <= 50)
    click("rec-mark-start")
    click("rec-forward")
    wait.until(lambda _: abs(int(attr("data-position") or 0) - (f0 + 10000)) <= 50)
    click("rec-mark-end")

    # The marked 10 s exported: the link is MediaMTX's playback URL (mp4, with its token), and the file it serves is 10 s.
    assert abs(float(driver.find_element(By.ID, "rec-range-length").get_attribute("data-seconds")) - 10) < 0.06
    click("rec-export")
    link = wait.until(EC.presence_of_element_located((By.ID, "rec-download")))
    href = link.get_attribute("href")
    assert "/get?" in href and "format=mp4" in href and "token=" in href, href
    with tempfile.NamedTemporaryFile(suffix=".mp4") as exported:
        exported.write(urllib.request.urlopen(href).read())
        exported.flush()
        probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", exported.name],
                               capture_output=True, text=True, check=True).stdout
    assert abs(float(probe) - float(link.get_attribute("data-duration"))) <= 0.3 and abs(float(probe) - 10) <= 0.3, (probe, link.get_attribute("data-duration"))

    # 2 s spans (the override): from the recording's start the position crosses into the next span, without a message.
    driver.execute_script("localStorage.setItem('playbackSpan', '2')")
    box = bar_box(front["id"])
    tap(box["left"] + 1, box["y"])
    wait.until(lambda _: attr("data-source") == front["id"] and int(attr("data-spans") or 0) >= 2 and f0 + 2300 < int(attr("data-position") or 0) < f0 + 6000)
    assert attr("data-state") == "playing" and not driver.find_element(By.ID, "rec-message").is_displayed()
    driver.execute_script("localStorage.removeItem('playbackSpan')")

    # Shift+drag on Back yard selects a range; saved as a clip: Back yard had no asset, one is made for it first.
    box = bar_box(yard["id"])
    track = driver.find_element(By.CSS_SELECTOR, f'.rec-track[data-source="{yard["id"]}"]')
    middle = driver.execute_script("const r = arguments[0].getBoundingClientRect(); return r.left + r.width / 2", track)
    x1, x2 = round(box["left"] + 6), round(box["left"] + (box["right"] - box["left"]) * 0.75)
    webdriver.ActionChains(driver).key_down(Keys.SHIFT).move_to_element_with_offset(track, round(x1 - middle), 0).click_and_hold() \
        .move_by_offset(10, 0).move_by_offset(x2 - x1 - 10, 0).release().key_up(Keys.SHIFT).perform()
    selection = wait.until(EC.presence_of_element_located((By.ID, "rec-selection")))
    sel_from, sel_to = float(selection.get_attribute("data-from")), float(selection.get_attribute("data-to"))
    pixel = span / box["width"]
    assert abs(sel_from - (frm + (x1 - box["lanes"]) * pixel)) <= pixel + 1 and abs(sel_to - (frm + (x2 - box["lanes"]) * pixel)) <= pixel + 1
    assert y0 < sel_from < sel_to < y_end and view() == (frm, to), "a shift+drag selects, it does not pan"
    assert driver.find_element(By.ID, "rec-range-source").text == "Back yard"
    seconds = float(driver.find_element(By.ID, "rec-range-length").get_attribute("data-seconds"))
    assert abs(seconds - (sel_to - sel_from) / 1000) < 0.002, (seconds, sel_from, sel_to)
    driver.find_element(By.ID, "rec-clip-name").send_keys("Yard clip")
    click("rec-save-clip")
    link = wait.until(EC.presence_of_element_located((By.ID, "rec-clip-link")))
    clip = next(c for c in api("/assets?source_type=vod")["items"] if c["name"] == "Yard clip")
    assert clip["source_id"] == yard["id"] and abs(clip["duration"] - seconds) < 0.002 and abs(moment(clip["start"]) * 1000 - sel_from) < 2, clip
    assert link.get_attribute("href").endswith(f"#/assets/{clip['id']}")
    assert [a["name"] for a in api(f"/assets?source_id={yard['id']}&source_type=live")["items"]] == ["Back yard"]
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False})
    driver.execute_script("window.scrollTo(0, 0); document.activeElement.blur()")
    shot("recordings-desktop")
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

    # A missing span: Side gate's segment deleted in MediaMTX (before the companion's reconciler notices) and played: the
    # message says so. In Chinese with another of its segments, then in English again.
    def play_missing(language):
        starts = driver.execute_script("return [...document.querySelectorAll(`.rec-track[data-source='${arguments[0]}'] .session`)].map((b) => b.dataset.start)", gate["id"])
        start = starts[-1]
        request = urllib.request.Request(f"{sim_base}/v3/recordings/deletesegment?{urllib.parse.urlencode({'path': gate['path_name'], 'start': start})}", method="DELETE")
        assert urllib.request.urlopen(request).status == 200
        box = bar_box(gate["id"], len(starts) - 1)
        tap((box["left"] + box["right"]) / 2, box["y"])
        message = wait.until(EC.visibility_of_element_located((By.ID, "rec-message")))
        wait.until(lambda _: message.text == MISSING_SPAN[language])
        assert attr("data-state") == "error" and attr("data-source") == gate["id"]

    play_missing("en")
    assert len(sim(sim_base, "record", {"path": gate["path_name"], "segments": 1, "duration": 2})["files"]) == 1
    now = time.time() * 1000
    latest = lambda: max(s["start"] for s in listing(now - 60000, now + 60000)["Side gate"]["sessions"])
    wait.until(lambda _: moment(latest()) * 1000 > now - 5000)
    second = latest()
    go(f"#/recordings?from={int(now - 40000)}&to={int(now + 20000)}", "rec-axis")
    last_gate_bar = lambda: driver.find_elements(By.CSS_SELECTOR, f'.rec-track[data-source="{gate["id"]}"] .session')[-1].get_attribute("data-start")
    wait.until(lambda _: last_gate_bar() == second)
    Select(driver.find_element(By.ID, "language")).select_by_value("zh")
    wait.until(lambda _: driver.find_element(By.CSS_SELECTOR, "main h1").text == "录像")
    assert driver.find_element(By.CSS_SELECTOR, 'nav a[href="#/recordings"]').text == "录像"
    assert driver.find_element(By.ID, "rec-axis").get_attribute("aria-label").startswith("时间轴")
    assert driver.find_element(By.CSS_SELECTOR, "#rec-player-panel h2").text == "播放器"
    assert driver.find_element(By.CSS_SELECTOR, "#rec-export-panel h2").text == "导出与剪辑"
    assert driver.find_element(By.ID, "rec-zoom-in").get_attribute("aria-label") == "放大"
    wait.until(lambda _: last_gate_bar() == second)
    play_missing("zh")
    driver.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
    webdriver.ActionChains(driver).move_to_element(driver.find_element(By.CSS_SELECTOR, "main h1")).perform()  # no hover readout
    assert driver.find_element(By.CSS_SELECTOR, f'.rec-label[data-source="{front["id"]}"] .meta').text.startswith("拉流 · "), "types in Chinese"
    shot("recordings-zh")
    Select(driver.find_element(By.ID, "language")).select_by_value("en")
    wait.until(lambda _: driver.find_element(By.CSS_SELECTOR, "main h1").text == "Recordings")
    assert driver.find_element(By.CSS_SELECTOR, "#rec-player-panel h2").text == "Player"
    assert driver.find_element(By.CSS_SELECTOR, 'nav a[href="#/recordings"]').text == "Recordings"

    # Filters (in the address, as the controls set them): by name, type, node, and the tag of a source's asset.
    go(route, "rec-axis")
    for params, names in [({"type": "pull"}, None), ({"q": "DOOR"}, ["Front door"]), ({"node": "north-2"}, ["Relay"]), ({"tag": "dock"}, ["Loading bay"])]:
        if "type" in params:
            Select(driver.find_element(By.ID, "rec-type")).select_by_value(params["type"])
        else:
            go(f"{route}&{urllib.parse.urlencode(params)}", "rec-axis")
        query = urllib.parse.urlencode({**params, "from": rfc3339(frm), "to": rfc3339(to)})
        expected = [i["source_id"] for i in api(f"/recordings/sessions?{query}")["items"]]
        wait.until(lambda _: [t.get_attribute("data-source") for t in driver.find_elements(By.CSS_SELECTOR, ".rec-track[data-source]")] == expected)
        assert names is None or [i["name"] for i in api(f"/recordings/sessions?{query}")["items"]] == names
        assert 0 < len(expected) < len(shown), (params, expected)

    # A phone: nothing wider than the screen; the timeline takes sideways touches and pinches (the page still scrolls up
    # and down over it): a pinch zooms in, a finger's drag pans, a tap plays.
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})
    try:
        axis = go(f"#/recordings?from={f0 - 60000}&to={f0 + 60000}", "rec-axis")
        widths = driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1] == 390, widths
        lanes = driver.execute_script("""const lanes = document.getElementById("rec-lanes"); lanes.scrollIntoView({block: "center"});
            const r = lanes.getBoundingClientRect(); return {left: r.left, width: r.width, y: r.top + 50, touch: getComputedStyle(lanes).touchAction}""")
        assert lanes["width"] >= 200 and lanes["touch"] == "pan-y", lanes
        touch = lambda kind, xs, y=lanes["y"]: driver.execute_cdp_cmd("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": px, "y": y, "id": i} for i, px in enumerate(xs)]})
        middle = lanes["left"] + lanes["width"] / 2
        before = view()
        touch("touchStart", [middle - 50, middle + 50])
        for step in range(1, 6):
            touch("touchMove", [middle - 50 - 5 * step, middle + 50 + 5 * step])
        touch("touchEnd", [])
        wait.until(lambda _: abs((view()[1] - view()[0]) - (before[1] - before[0]) * 100 / 150) <= 2)
        before = view()
        touch("touchStart", [middle])
        for step in range(1, 5):
            touch("touchMove", [middle + 10 * step])
        touch("touchEnd", [])
        wait.until(lambda _: view()[0] < before[0] and view()[1] - view()[0] == before[1] - before[0])
        box = bar_box(front["id"])
        touch("touchStart", [box["left"] - 1], box["y"])
        touch("touchEnd", [], box["y"])
        wait.until(lambda _: attr("data-source") == front["id"] and attr("data-span-start") == str(f0))
        driver.execute_script("window.scrollTo(0, 0); document.activeElement.blur()")
        shot("recordings-phone")
    finally:
        driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": False})
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    print(f"recordings page: {time.time() - began:.1f} s")


def run(base, sim_base, whep_base, proxy, direct, second_node):
    """`base`: the companion as the browser reaches it (through `proxy`); `direct`: without the proxy, for the test's
    own API calls, which must work while the proxy is cut; `second_node`: the API and playback addresses of a second
    simulator, not yet a node."""
    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,800", "--lang=en-US"]:
        options.add_argument(argument)
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver") or "/usr/bin/chromedriver")
    driver = webdriver.Chrome(options=options, service=service)
    driver.execute_cdp_cmd("Emulation.setTimezoneOverride", {"timezoneId": BROWSER_ZONE})
    wait = WebDriverWait(driver, 15, ignored_exceptions=[StaleElementReferenceException])  # pages redraw as events arrive
    os.makedirs(SHOTS, exist_ok=True)
    pages = {}  # the main pages' routes, for the label and phone-width checks

    def shot(name, element_id=None):
        if element_id:
            driver.execute_script("document.getElementById(arguments[0]).scrollIntoView()", element_id)
        driver.save_screenshot(os.path.join(SHOTS, f"{name}.png"))

    def go(hash_route, element_id):
        driver.get(base + "/#/")  # a different hash first, so the page is rendered anew
        driver.get(base + "/" + hash_route)
        return wait.until(EC.presence_of_element_located((By.ID, element_id)))

    def token():
        return driver.execute_script("return sessionStorage.getItem('token')")

    def api(path, method="GET", body=None):
        status, answer = call(direct, path, token(), method, body)
        assert status < 300, (path, status, answer)
        return answer

    def stream_state():
        """The live event stream: connecting, open (changes arrive) or closed (the browser is reconnecting)."""
        return driver.execute_script("return document.documentElement.dataset.stream")

    def error_text():
        return wait.until(EC.visibility_of_element_located((By.ID, "error"))).text

    try:
        # Log in.
        driver.get(base + "/")
        wait.until(EC.presence_of_element_located((By.ID, "login-form")))
        pages["login"] = "#/login", "login-form"
        shot("login")
        driver.find_element(By.NAME, "username").send_keys("admin")
        driver.find_element(By.NAME, "password").send_keys("wrong password")
        driver.find_element(By.CSS_SELECTOR, "#login-form button").click()
        assert error_text() == "Wrong user name or password.", error_text()
        password = driver.find_element(By.NAME, "password")
        password.clear()
        password.send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "#login-form button").click()
        wait.until(EC.presence_of_element_located((By.ID, "sources")))
        assert all(a.is_displayed() for a in driver.find_elements(By.CSS_SELECTOR, "nav a[data-admin]")), "admins see Users and Audit"

        # A pull source and a push source; the push URL with its key and the two OBS fields.
        form = go("#/sources/new", "new-source-form")
        pages["new source"] = "#/sources/new", "new-source-form"
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
        pages["sources"] = "#/sources", "sources"
        row = table.find_element(By.XPATH, ".//tr[td/a[text()='OBS studio']]")
        path = row.get_attribute("data-path")
        assert row.find_element(By.CSS_SELECTOR, ".dot").get_attribute("data-live") == "false"
        wait.until(lambda _: stream_state() == "open")
        sim(sim_base, "publish", {"path": path, "source_type": "rtmpConn"})
        wait.until(lambda _: driver.find_element(By.CSS_SELECTOR, f'tr[data-path="{path}"] .dot').get_attribute("data-live") == "true")
        shot("sources")

        # The event stream drops (the network between browser and companion) while a reader joins: when the stream
        # comes back, the page reads its rows again and shows the reader it was never told about.
        source_id = driver.find_element(By.CSS_SELECTOR, f'tr[data-path="{path}"]').get_attribute("data-id")
        proxy.cut()
        wait.until(lambda _: stream_state() == "closed")
        reader = sim(sim_base, "readers/add", {"path": path, "type": "hlsMuxer"})["id"]
        indexed = lambda: next(s for s in api("/sources?with_status=true&page_size=100")["items"] if s["id"] == source_id)["status"]
        wait.until(lambda _: indexed()["readers"] == 1)
        assert driver.find_element(By.CSS_SELECTOR, f'tr[data-path="{path}"] .readers').text == "0", "offline: not told yet"
        proxy.restore()
        wait.until(lambda _: stream_state() == "open")
        wait.until(lambda _: driver.find_element(By.CSS_SELECTOR, f'tr[data-path="{path}"] .readers').text == "1")
        sim(sim_base, "readers/remove", {"path": path, "id": reader})
        wait.until(lambda _: driver.find_element(By.CSS_SELECTOR, f'tr[data-path="{path}"] .readers').text == "0")

        # The source's event history holds the publisher's events.
        source_id = driver.find_element(By.CSS_SELECTOR, f'tr[data-path="{path}"]').get_attribute("data-id")
        go(f"#/sources/{source_id}", "events")
        pages["source detail"] = f"#/sources/{source_id}", "events"
        # (MediaMTX runs both hooks at once: either may come first; then the reader who came and went.)
        wait.until(lambda _: sorted(r.get_attribute("data-type") for r in driver.find_elements(By.CSS_SELECTOR, "#events tbody tr")) == ["available", "online", "read", "unread"])
        assert driver.find_element(By.ID, "status-dot").get_attribute("data-live") == "true"

        # Live preview: the page sends MediaMTX's WHEP endpoint a receive-only SDP offer; refused (no WebRTC here), it
        # says why and links MediaMTX's own player page.
        driver.find_element(By.ID, "preview-start").click()
        fallback = wait.until(EC.visibility_of_element_located((By.ID, "preview-fallback")))
        assert fallback.get_attribute("href").startswith(f"{whep_base}/{path}/?token="), fallback.get_attribute("href")
        message = driver.find_element(By.ID, "preview-message").text
        assert message.startswith("The live preview could not start") and WHEP_REFUSAL in message, message
        assert len(WHEPStandIn.offers) == 1, WHEPStandIn.offers
        offer = WHEPStandIn.offers[0]
        assert offer["path"].startswith(f"/{path}/whep?token="), offer["path"]
        assert offer["content_type"] == "application/sdp", offer["content_type"]
        sdp = offer["sdp"].replace("\r\n", "\n")
        assert sdp.startswith("v=0\n") and "\nm=video " in sdp and "\nm=audio " in sdp, sdp
        assert sdp.count("a=recvonly") == 2 and "a=sendrecv" not in sdp and "a=sendonly" not in sdp, sdp
        shot("source-preview-fallback", "preview-panel")

        # Start recording in the UI; the simulator's publisher records two real 2 s segments (ffmpeg) and runs mtx-hook
        # for each: the event history shows them without a reload; they appear on the day's timeline, and a click plays.
        driver.find_element(By.XPATH, "//button[text()='Start recording']").click()
        wait.until(EC.presence_of_element_located((By.XPATH, "//button[text()='Stop recording']")))
        wait.until(EC.presence_of_element_located((By.ID, "events")))
        files = sim(sim_base, "record", {"path": path, "segments": 2, "duration": 2})["files"]
        assert len(files) == 2, files
        wait.until(lambda _: len(driver.find_elements(By.CSS_SELECTOR, '#events tr[data-type="segment-complete"]')) == 2)
        wait.until(lambda _: [td.get_attribute("data-state") for td in driver.find_elements(By.CSS_SELECTOR, "#segments td:last-child")] == ["complete", "complete"])
        assert [s["file_path"] for s in api(f"/sources/{source_id}/record/files")["items"] if s["state"] == "complete"] == files
        shot("source-events", "events-panel")
        axis = go(f"#/sources/{source_id}", "timeline")
        bars = axis.find_elements(By.CSS_SELECTOR, ".session")
        assert len(bars) == 1, f"two touching segments are one session: {len(bars)}"
        assert len(driver.find_elements(By.CSS_SELECTOR, "#segments tbody tr")) == 2
        # Just before the bar (a pixel is 86 s of the day): the recording's start, so the URL serves all of it (a click on
        # the bar may land in its last milliseconds, which the simulator's playback serves as a few frames).
        before = driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); const r = arguments[0].getBoundingClientRect(); return [Math.floor(r.left) - 1, Math.round(r.top + r.height / 2)]", bars[0])
        click = ActionBuilder(driver)
        click.pointer_action.move_to_location(*before).click()
        click.perform()
        wait.until(lambda _: driver.find_element(By.ID, "player").get_attribute("src"))
        src = driver.find_element(By.ID, "player").get_attribute("src")
        assert "/get?" in src and "token=" in src, src
        answer = urllib.request.urlopen(src)
        assert answer.status == 200 and answer.headers["Content-Type"] == "video/mp4", answer.status
        assert len(answer.read()) > 1000, "the playback URL serves the recording"
        shot("source-recordings", "timeline-panel")

        # Readable values: the segments' sizes in KB/MB/GB and durations as "2.0 s"; their start in the browser's zone
        # with the UTC time on hover. The header's setting shows times in UTC (the local time on hover), and is kept.
        segments = api(f"/sources/{source_id}/record/files?page_size=50")["items"]
        cells = lambda: [[td.text for td in r.find_elements(By.TAG_NAME, "td")] for r in driver.find_elements(By.CSS_SELECTOR, "#segments tbody tr")]
        first_start = lambda: (cells() or [[None]])[0][0]
        local, utc = shown_times(segments[0]["start"])
        wait.until(lambda _: first_start() == local)
        for (_, length, size, _), segment in zip(cells(), segments, strict=True):
            assert re.fullmatch(HUMAN_SIZE, size) and re.fullmatch(HUMAN_DURATION, length), (size, length)
            assert abs(float(length.removesuffix(" s")) - segment["duration"]) <= 0.051, (length, segment["duration"])
        assert driver.find_element(By.CSS_SELECTOR, "#segments tbody td.start time").get_attribute("title") == utc
        completed = driver.find_element(By.CSS_SELECTOR, '#events tr[data-type="segment-complete"] td:last-child').text
        assert re.search(rf"(^|· )({HUMAN_DURATION})$", completed), completed
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", driver.find_element(By.CSS_SELECTOR, "#events td time").get_attribute("title"))
        driver.find_element(By.ID, "utc-times").click()
        wait.until(lambda _: first_start() == utc)
        assert driver.find_element(By.CSS_SELECTOR, "#segments tbody td.start time").get_attribute("title") == f"{local} ({BROWSER_ZONE})"
        driver.refresh()
        wait.until(lambda _: first_start() == utc)
        assert driver.find_element(By.ID, "utc-times").is_selected(), "the setting is kept"
        shot("source-segments-utc", "segments-panel")
        driver.find_element(By.ID, "utc-times").click()
        wait.until(lambda _: first_start() == local)

        # Storage: a bar per source, largest first, with its size, hours and segments; an admin sets the recorded
        # source's retention to 7 days in place, a bad value gets the API's message, and "Use default" undoes it.
        listing = go("#/storage", "storage")
        pages["storage"] = "#/storage", "storage"
        sizes = [int(li.get_attribute("data-bytes")) for li in listing.find_elements(By.CSS_SELECTOR, "li[data-source]")]
        assert len(sizes) == len(api("/storage")["items"]) >= 2 and sizes == sorted(sizes, reverse=True), sizes
        row = listing.find_element(By.CSS_SELECTOR, f'li[data-source="{source_id}"]')
        assert listing.find_element(By.CSS_SELECTOR, "li[data-source]") == row, "the recorded source is the largest"
        assert row.find_element(By.CSS_SELECTOR, ".bar .fill").size["width"] > 0, "its bar is drawn"
        figures = row.find_element(By.CSS_SELECTOR, ".figures").text
        assert re.fullmatch(rf"({HUMAN_SIZE}) · ({HUMAN_DURATION}) · 2 segments", figures), figures
        assert re.match(rf"Total: ({HUMAN_SIZE}) · ", driver.find_element(By.ID, "storage-total").text)
        retention = lambda: api(f"/sources/{source_id}/retention")
        default_days = retention()["default_days"]
        field = row.find_element(By.CSS_SELECTOR, "input.retention-days")
        assert field.get_attribute("value") == str(default_days)
        field.clear()
        field.send_keys("7")
        row.find_element(By.CSS_SELECTOR, "form.retention button[type=submit]").click()
        wait.until(lambda _: retention()["retention_days"] == 7)
        wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, f'li[data-source="{source_id}"] .retention-status'), "7 days (own setting)"))
        field.clear()
        field.send_keys("1.5")
        row.find_element(By.CSS_SELECTOR, "form.retention button[type=submit]").click()
        _, refusal = call(direct, f"/sources/{source_id}/retention", token(), "PUT", {"retention_days": 1.5})
        assert error_text() == refusal["error"]["message"], (error_text(), refusal)
        assert retention()["retention_days"] == 7
        shot("storage")
        row.find_element(By.CSS_SELECTOR, "button.use-default").click()
        wait.until(lambda _: retention()["retention_days"] is None)
        wait.until(lambda _: field.get_attribute("value") == str(default_days))

        # Stream assets, both ways.
        go("#/assets", "asset-from-url")
        pages["assets"] = "#/assets", "asset-from-url"
        form = driver.find_element(By.ID, "asset-from-url")
        form.find_element(By.NAME, "name").send_keys("Loading bay")
        form.find_element(By.NAME, "stream_url").send_keys("rtsp://192.168.1.30/live")
        form.find_element(By.NAME, "tags").send_keys("dock, north")
        form.find_element(By.CSS_SELECTOR, "button").click()
        wait.until(EC.presence_of_element_located((By.XPATH, "//table[@id='assets']//a[text()='Loading bay']")))
        for name, source in [("Front door asset", "Front door ("), ("Studio", "OBS studio (")]:
            form = wait.until(EC.presence_of_element_located((By.ID, "asset-from-source")))
            form.find_element(By.NAME, "name").send_keys(name)
            Select(form.find_element(By.NAME, "source_id")).select_by_visible_text(
                next(o.text for o in form.find_elements(By.TAG_NAME, "option") if o.text.startswith(source)))
            form.find_element(By.CSS_SELECTOR, "button").click()
            wait.until(EC.presence_of_element_located((By.XPATH, f"//table[@id='assets']//a[text()='{name}']")))
        shot("assets")

        # The asset of the recorded source: its status, preview and timeline; by keyboard, Enter on the timeline plays
        # the day's first recording, and Enter on Play plays from the time field (set by script: how a time input takes
        # keys depends on the locale).
        time.sleep(0.3)
        driver.find_element(By.XPATH, "//table[@id='assets']//a[text()='Studio']").click()
        axis = wait.until(EC.presence_of_element_located((By.ID, "timeline")))
        asset_route = driver.execute_script("return location.hash")
        pages["asset detail"] = asset_route, "clip-form"
        assert driver.find_element(By.ID, "status-dot").get_attribute("data-live") == "true"
        assert driver.find_element(By.ID, "preview-start").is_displayed()
        session = api(f"/sources/{source_id}/record/sessions")["items"][0]
        axis.send_keys(Keys.ENTER)
        wait.until(lambda _: driver.find_element(By.ID, "player").get_attribute("src"))
        assert driver.find_element(By.ID, "timeline-time").get_attribute("value") == session["start"][11:23]
        driver.execute_script("arguments[0].removeAttribute('src')", driver.find_element(By.ID, "player"))
        driver.execute_script("document.getElementById('timeline-time').value = arguments[0]", session["start"][11:19])
        driver.find_element(By.CSS_SELECTOR, "#timeline-goto button").send_keys(Keys.ENTER)
        wait.until(lambda _: driver.find_element(By.ID, "player").get_attribute("src"))
        assert "/get?" in driver.find_element(By.ID, "player").get_attribute("src")

        # A clip from the timeline: a click just before the recording's bar (a pixel is 70 s of the day, the recording
        # 4 s) starts the clip at the recording's exact start and plays it; the player's position a second or more in
        # ends it; it becomes a vod asset whose playback URL serves the recording. (A click on the bar's middle would
        # land inside the recording or beside it depending on how the bar falls on pixels.)
        driver.execute_script("arguments[0].removeAttribute('src')", driver.find_element(By.ID, "player"))
        bar = driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); const r = arguments[0].getBoundingClientRect(); return [Math.floor(r.left) - 1, Math.round(r.top + r.height / 2)]",
                                    axis.find_element(By.CSS_SELECTOR, ".session"))
        click = ActionBuilder(driver)
        click.pointer_action.move_to_location(*bar).click()
        click.perform()
        wait.until(lambda _: driver.find_element(By.ID, "player").get_attribute("src"))
        clip_start = driver.find_element(By.ID, "clip-start").get_attribute("value")
        assert clip_start == session["start"][11:23], (clip_start, session["start"])
        assert driver.find_element(By.CSS_SELECTOR, "#timeline .selection").is_displayed(), "the clip's range is drawn"
        played = driver.execute_async_script("""const [video, done] = arguments;
            const check = () => { if (video.currentTime >= 1) { video.pause(); done(video.currentTime); } };
            video.addEventListener("timeupdate", check);
            check();""", driver.find_element(By.ID, "player"))
        driver.find_element(By.XPATH, "//button[text()='End at player position']").click()
        duration = float(driver.find_element(By.ID, "clip-duration").get_attribute("value"))
        assert 0 <= played - duration < 0.002, (played, duration)  # JavaScript times stop at milliseconds
        driver.find_element(By.ID, "clip-name").send_keys("Goal")
        driver.find_element(By.CSS_SELECTOR, "#clip-form button[type=submit]").click()
        link = wait.until(EC.presence_of_element_located((By.ID, "created-clip")))
        shot("asset-detail", "timeline-panel")
        clips = api("/assets?source_type=vod")["items"]
        assert [(c["name"], c["duration"], c["source_id"]) for c in clips] == [("Goal", duration, source_id)], clips
        # The page asks for the session's start to the microsecond; the catalogue keeps clip times to the millisecond.
        assert abs(moment(clips[0]["start"]) - moment(session["start"])) < 0.001, (clips[0]["start"], session["start"])
        answer = urllib.request.urlopen(clips[0]["playback_url"])
        assert answer.status == 200 and answer.headers["Content-Type"] == "video/mp4" and len(answer.read()) > 1000
        link.click()
        player = wait.until(EC.presence_of_element_located((By.ID, "clip-player")))
        pages["clip"] = f"#/assets/{clips[0]['id']}", "clip-player"
        assert urllib.request.urlopen(player.get_attribute("src")).status == 200
        shot("clip")

        # Deleting a source with assets: the 409 answer, readable.
        go("#/assets", "assets")
        driver.find_element(By.XPATH, "//table[@id='assets']//a[text()='Front door asset']").click()
        wait.until(EC.presence_of_element_located((By.ID, "asset-source"))).click()
        wait.until(EC.presence_of_element_located((By.ID, "delete-source"))).click()
        driver.switch_to.alert.accept()
        assert "stream asset(s) use this media source (Front door asset)" in error_text(), error_text()
        shot("source-detail")

        # Users (admins): add one, change the role and password, remove another; each answer checked through the API.
        form = go("#/users", "add-user")
        pages["users"] = "#/users", "add-user"
        for name, role in [("carol", "operator"), ("dave", "viewer")]:
            form = wait.until(EC.presence_of_element_located((By.ID, "add-user")))
            form.find_element(By.NAME, "username").send_keys(name)
            form.find_element(By.NAME, "password").send_keys(f"{name} password 1")
            Select(form.find_element(By.NAME, "role")).select_by_value(role)
            form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
            wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f'tr[data-user="{name}"]')))
        assert call(base, "/auth/login", "", "POST", {"username": "carol", "password": "carol password 1"})[0] == 200
        Select(driver.find_element(By.CSS_SELECTOR, 'tr[data-user="carol"] select')).select_by_value("viewer")
        wait.until(lambda _: {u["username"]: u["role"] for u in api("/users")["items"]}.get("carol") == "viewer")
        row = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, 'tr[data-user="carol"]')))
        row.find_element(By.CSS_SELECTOR, "input[type=password]").send_keys("carol password 2")
        row.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait.until(EC.text_to_be_present_in_element((By.ID, "users-status"), "carol"))
        assert call(base, "/auth/login", "", "POST", {"username": "carol", "password": "carol password 2"})[0] == 200
        shot("users")
        driver.find_element(By.CSS_SELECTOR, 'tr[data-user="dave"] button.danger').click()
        driver.switch_to.alert.accept()
        wait.until(lambda _: not driver.find_elements(By.CSS_SELECTOR, 'tr[data-user="dave"]'))
        assert call(base, "/auth/login", "", "POST", {"username": "dave", "password": "dave password 1"})[0] == 401

        # The last admin cannot be demoted: the API's message, as it says it.
        Select(driver.find_element(By.CSS_SELECTOR, 'tr[data-user="admin"] select')).select_by_value("viewer")
        _, refusal = call(base, "/users/admin", token(), "PUT", {"role": "viewer"})
        assert error_text() == refusal["error"]["message"], (error_text(), refusal)
        assert Select(driver.find_element(By.CSS_SELECTOR, 'tr[data-user="admin"] select')).first_selected_option.get_attribute("value") == "admin"

        # Audit (admins): the logins, and the filters the API takes.
        go("#/audit", "audit")
        pages["audit"] = "#/audit", "audit"
        rows = driver.find_elements(By.CSS_SELECTOR, '#audit tbody tr[data-action="auth.login"]')
        assert any("user admin" in r.text and r.get_attribute("data-outcome") == "ok" for r in rows), [r.text for r in rows]
        stamp = rows[0].find_element(By.TAG_NAME, "time")
        assert (stamp.text, stamp.get_attribute("title")) == shown_times(stamp.get_attribute("datetime")), stamp.get_attribute("outerHTML")
        shot("audit")
        filters = driver.find_element(By.ID, "audit-filters")
        Select(filters.find_element(By.NAME, "action")).select_by_value("auth.login")
        Select(filters.find_element(By.NAME, "outcome")).select_by_value("denied")
        filters.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait.until(lambda _: "outcome=denied" in driver.current_url)
        rows = wait.until(lambda _: driver.find_elements(By.CSS_SELECTOR, "#audit tbody tr[data-action]"))
        refused = [(r.get_attribute("data-action"), r.get_attribute("data-outcome"), r.find_elements(By.TAG_NAME, "td")[3].text) for r in rows]
        assert refused == [("auth.login", "denied", "user dave"), ("auth.login", "denied", "user admin")], refused

        # Nodes (admins): a second node added in the form, its token shown once; a push source placed on `default` in the
        # new-source form, moved to the second node on its page (its push URL changes: the encoder must follow); the
        # second node refuses deletion while it holds sources, then is drained: its pull source moves, the push one stays.
        form = go("#/nodes", "add-node")
        pages["nodes"] = "#/nodes", "add-node"
        assert driver.find_element(By.CSS_SELECTOR, 'tr[data-node="default"]').get_attribute("data-state") == "active"
        second_api, second_playback = second_node
        fields = {"name": "north-2", "api_address": second_api, "playback_address": second_playback, "rtsp_address": "rtsp://127.0.0.1:18554",
                  "rtmp_address": "rtmp://127.0.0.1:11935", "hls_address": "http://127.0.0.1:18888", "webrtc_address": "http://127.0.0.1:18889",
                  "srt_address": "srt://127.0.0.1:18890", "labels": "site=north, rack=2", "max_paths": "10"}
        for name, value in fields.items():
            form.find_element(By.NAME, name).send_keys(value)
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        node_token = wait.until(EC.presence_of_element_located((By.ID, "node-token-value"))).text
        assert len(node_token) == 48 and all(c in "0123456789abcdef" for c in node_token), node_token
        assert driver.find_element(By.ID, "node-token-line").text.endswith(f"/api/v1/mediamtx/auth?node_token={node_token}")
        node = api("/nodes/north-2")
        assert (node["labels"], node["max_paths"], node["auth_token_set"], "auth_token" in node) == ({"site": "north", "rack": "2"}, 10, True, False), node
        node_states = lambda: [(r.get_attribute("data-node"), r.get_attribute("data-state")) for r in driver.find_elements(By.CSS_SELECTOR, "#nodes tbody tr")]
        wait.until(lambda _: node_states() == [("default", "active"), ("north-2", "active")])
        assert "site=north" in driver.find_element(By.CSS_SELECTOR, 'tr[data-node="north-2"]').text
        shot("nodes", "node-token")

        form = go("#/sources/new", "new-source-form")
        choices = [o.get_attribute("value") for o in form.find_elements(By.CSS_SELECTOR, "#source-node option")]
        assert choices == ["", "default", "north-2"], choices
        form.find_element(By.ID, "source-name").send_keys("Relay")
        Select(form.find_element(By.ID, "source-kind")).select_by_value("push")
        Select(form.find_element(By.ID, "source-node")).select_by_value("default")
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait.until(EC.presence_of_element_located((By.ID, "created-source"))).click()
        assert wait.until(EC.presence_of_element_located((By.ID, "source-node"))).text == "default"
        relay = driver.execute_script("return location.hash").split("/")[-1]
        old_push = driver.find_element(By.ID, "push-url").text
        assert old_push.startswith("rtmp://127.0.0.1:1935/"), old_push
        Select(driver.find_element(By.ID, "move-node")).select_by_value("north-2")
        driver.find_element(By.CSS_SELECTOR, "#move-source button[type=submit]").click()
        moved = wait.until(EC.presence_of_element_located((By.ID, "move-result")))
        assert moved.text.startswith("Moved: default → north-2"), moved.text
        assert driver.find_element(By.ID, "push-url-changed").is_displayed()
        assert driver.find_element(By.ID, "source-node").text == "north-2"
        assert driver.find_element(By.ID, "push-url").text.startswith("rtmp://127.0.0.1:11935/"), driver.find_element(By.ID, "push-url").text
        assert api(f"/sources/{relay}")["node"] == "north-2"
        shot("source-moved", "move-result")
        yard = api("/sources", "POST", {"name": "Yard", "type": "pull", "url": "rtsp://192.168.1.40/stream1", "node": "north-2"})["id"]
        go("#/sources?node=north-2", "sources")
        assert sorted((r.find_element(By.TAG_NAME, "a").text, r.find_element(By.CSS_SELECTOR, "td.node").text)
                      for r in driver.find_elements(By.CSS_SELECTOR, "#sources tbody tr")) == [("Relay", "north-2"), ("Yard", "north-2")]

        go("#/nodes", "nodes")
        driver.find_element(By.CSS_SELECTOR, 'tr[data-node="north-2"] button.delete').click()
        driver.switch_to.alert.accept()
        _, refusal = call(direct, "/nodes/north-2", token(), "DELETE")
        assert refusal["error"]["code"] == "node_has_sources" and error_text() == refusal["error"]["message"], (error_text(), refusal)
        driver.find_element(By.CSS_SELECTOR, 'tr[data-node="north-2"] button.drain').click()
        driver.switch_to.alert.accept()
        report = wait.until(EC.presence_of_element_located((By.ID, "drain-report")))
        assert (report.get_attribute("data-moved"), report.get_attribute("data-stayed")) == ("1", "1"), report.text
        assert [li.get_attribute("data-source") for li in report.find_elements(By.CSS_SELECTOR, "li")] == [yard, relay], report.text
        assert report.find_element(By.CSS_SELECTOR, f'li[data-source="{relay}"]').get_attribute("data-reason") == "push"
        assert "→ default" in report.find_element(By.CSS_SELECTOR, f'li[data-source="{yard}"]').text, report.text
        wait.until(lambda _: node_states() == [("default", "active"), ("north-2", "draining")])
        assert api(f"/sources/{yard}")["node"] == "default"
        shot("nodes-drained")
        driver.find_element(By.CSS_SELECTOR, 'tr[data-node="north-2"] button.undrain').click()
        wait.until(lambda _: node_states() == [("default", "active"), ("north-2", "active")])
        Select(driver.find_element(By.ID, "language")).select_by_value("zh")
        wait.until(lambda _: driver.find_element(By.CSS_SELECTOR, "main h1").text == "MediaMTX 节点")
        assert driver.find_element(By.CSS_SELECTOR, 'nav a[href="#/nodes"]').text == "节点"
        assert driver.find_element(By.CSS_SELECTOR, 'tr[data-node="north-2"] .badge').text == "正常"
        shot("nodes-zh")
        Select(driver.find_element(By.ID, "language")).select_by_value("en")
        wait.until(lambda _: driver.find_element(By.CSS_SELECTOR, "main h1").text == "MediaMTX nodes")

        # The Recordings page: every source on one time axis, the player, export and clips.
        recordings_page(driver, wait, sim_base, api, go, shot, pages)

        # Every field of every main page has a label, and nothing is wider than a phone's screen.
        for name, (hash_route, element_id) in pages.items():
            go(hash_route, element_id)
            assert not unlabelled(driver), (name, unlabelled(driver))
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True})
        for name, (hash_route, element_id) in pages.items():
            go(hash_route, element_id)
            widths = driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
            assert widths[0] <= widths[1] == 390, (name, widths)
        go(f"#/sources/{source_id}", "status-panel")
        shot("source-detail-phone")
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

        # Keyboard only: log out, then sign in as the viewer with keys alone; the focused button shows it. Viewers see
        # no admin pages, and the API's refusal reads as it says it.
        driver.find_element(By.ID, "logout").click()
        wait.until(EC.presence_of_element_located((By.ID, "login-form")))
        keys = webdriver.ActionChains(driver)
        assert driver.switch_to.active_element.get_attribute("name") == "username", "the login form starts focused"
        keys.send_keys("carol", Keys.TAB, "carol password 2", Keys.TAB).perform()
        focused = driver.switch_to.active_element
        assert focused.get_attribute("type") == "submit", focused.get_attribute("outerHTML")
        assert focused.value_of_css_property("outline-style") == "solid", "focus is visible"
        webdriver.ActionChains(driver).send_keys(Keys.ENTER).perform()
        wait.until(EC.presence_of_element_located((By.ID, "sources")))
        wait.until(EC.text_to_be_present_in_element((By.ID, "who"), "carol (viewer)"))
        assert not any(a.is_displayed() for a in driver.find_elements(By.CSS_SELECTOR, "nav a[data-admin], nav a[data-operator]")), "viewers see no admin links"
        go("#/users", "main")
        _, refusal = call(base, "/users", token())
        assert error_text() == refusal["error"]["message"], (error_text(), refusal)
        # Viewers read the storage page and each retention, with nothing to change it.
        listing = go("#/storage", "storage")
        assert listing.find_element(By.CSS_SELECTOR, f'li[data-source="{source_id}"] .retention').text.startswith("Retention: ")
        assert not listing.find_elements(By.CSS_SELECTOR, "form, input, button"), "viewers get no retention control"

        # Chinese.
        go("#/sources", "sources")
        Select(driver.find_element(By.ID, "language")).select_by_value("zh")
        wait.until(lambda _: driver.find_element(By.CSS_SELECTOR, "main h1").text == "媒体源")
        assert driver.find_element(By.CSS_SELECTOR, "nav a").text == "媒体源"
        assert driver.find_element(By.ID, "who").text == "carol (查看者)"
        shot("sources-zh")
        go("#/storage", "storage")
        assert driver.find_element(By.CSS_SELECTOR, "main h1").text == "录像存储"
        assert driver.find_element(By.CSS_SELECTOR, 'nav a[href="#/storage"]').text == "存储"
        figures = driver.find_element(By.CSS_SELECTOR, f'#storage li[data-source="{source_id}"] .figures').text
        assert re.fullmatch(rf"({HUMAN_SIZE}) · \d+\.\d 秒 · 2 个分段", figures), figures
        shot("storage-zh")
        print("browser tests: passed (screenshots in screenshots/)")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
