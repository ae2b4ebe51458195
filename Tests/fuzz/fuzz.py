#!/usr/bin/env python3
"""Schemathesis against the live server and the MediaMTX simulator, both started here on free ports with a fresh SQLite
file: every operation of docs/openapi.yaml, as each role (viewer, operator, admin; the hook route with the hook token),
checked for 5xx answers, answers the document does not allow (status, content type, headers, body schema) and a
crashed server. Settings are in schemathesis.toml beside this file. A few sources, assets, recorded segments and a
clip are made first, so that the fuzzer (which reuses ids it reads from answers) reaches real rows, not only 404s.
The live event stream never ends, so Schemathesis leaves it out and it is checked here, with bounded reads. After the
deterministic runs, one randomised run of bounded size, its seed printed (FUZZ_SEED replays it).
Run by scripts/fuzz.sh after `swift build`; exits non-zero on any failure."""
import json, os, random, shutil, socket, subprocess, sys, tempfile, time, urllib.error, urllib.request
from xml.etree import ElementTree

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, ".build", "debug")
HERE = os.path.dirname(os.path.abspath(__file__))
HOOK_TOKEN = "fuzz-hook-token"
PASSWORD = "fuzz password 1"
# Names no generated string is likely to hit, so the admin's run does not remove or demote the other roles' users.
USERS = {"viewer": "fuzz.viewer.7f3a", "operator": "fuzz.operator.7f3a", "admin": "fuzz.admin.7f3a"}
# Examples per operation and phase, and phases, for each role. The admin may do everything, so its run goes deepest:
# the boundary values of every parameter (coverage) and chains of calls that use what earlier calls made (stateful).
# The others' runs check the same operations with their tokens (403s where the role may not).
RUNS = {
    "viewer": (15, "examples,fuzzing"),
    "operator": (15, "examples,fuzzing"),
    "admin": (30, "examples,coverage,fuzzing,stateful"),
}
# After the deterministic runs (the same inputs every time: a green run stays green), one randomised run of bounded
# size as the operator: new inputs each time. Its seed is printed, so a failure replays with FUZZ_SEED=<seed>.
RANDOM_RUN = ("operator", 8, "fuzzing")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, seconds=30):
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


def call(base, path, token=None, method="GET", body=None):
    """(status, JSON body) of one API call."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(base + path, method=method, headers=headers,
                                     data=None if body is None else json.dumps(body).encode())
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def expect(status, body, wanted, what):
    if status != wanted:
        raise RuntimeError(f"{what}: {status} {body}")
    return body


def seed(base, admin, recordings):
    """Rows for the fuzzer to find: pull and push sources, assets both ways, a recorded session and a clip of it."""
    pull = expect(*call(base, "/api/v1/sources", admin, "POST", {"name": "Front door", "type": "pull", "url": "rtsp://192.0.2.10:554/stream1", "record_enabled": True}), 201, "pull source")
    expect(*call(base, "/api/v1/sources", admin, "POST", {"name": "OBS", "type": "push"}), 201, "push source")
    expect(*call(base, "/api/v1/sources", admin, "POST", {"name": "Spare", "type": "pull", "url": "srt://192.0.2.11:8890", "enabled": False}), 201, "disabled source")
    live = expect(*call(base, "/api/v1/assets", admin, "POST", {"type": "stream", "source_type": "live", "name": "Front door", "source_id": pull["id"], "tags": ["door"]}), 201, "asset from a source")
    expect(*call(base, "/api/v1/assets", admin, "POST", {"type": "stream", "source_type": "live", "name": "Dock", "stream_url": "rtsp://192.0.2.12/live", "tags": ["dock"], "description": "north"}), 201, "asset from a URL")
    path = pull["path_name"]
    events = []
    for i, start in enumerate(["2026-11-25T20:00:00", "2026-11-25T20:00:02", "2026-11-25T20:00:04"]):
        file = os.path.join(recordings, path, start.replace("T", "_").replace(":", "-") + "-000000.mp4")
        events.append({"event_id": f"seed-create-{i}", "type": "segment-create", "occurred_at": start + "Z", "path": path, "segment_path": file})
        events.append({"event_id": f"seed-complete-{i}", "type": "segment-complete", "occurred_at": start + ".5Z", "path": path,
                       "segment_path": file, "segment_duration": 2.0, "segment_size": 4096})
    events += [{"event_id": "seed-available", "type": "available", "occurred_at": "2026-11-25T20:00:00Z", "path": path, "source_type": "rtspSource"},
               {"event_id": "seed-read", "type": "read", "occurred_at": "2026-11-25T20:00:01Z", "path": path, "reader_id": "r1", "reader_type": "hlsMuxer"}]
    expect(*call(base, "/api/v1/hooks/events", HOOK_TOKEN, "POST", {"events": events}), 200, "hook events")
    expect(*call(base, f"/api/v1/assets/{live['id']}/clips", admin, "POST", {"name": "Goal", "start": "2026-11-25T20:00:01Z", "duration": 3}), 201, "clip")


def check_event_stream(base, tokens):
    """What Schemathesis cannot read (it waits for an answer's end, and this one never ends): the event stream, each
    request answered with a bounded read. Without a token, with broken ones, with a token in the header or the query,
    with stray or hostile parameters: 401 with a JSON error, or 200 and the stream's greeting — nothing else."""
    stream = base + "/api/v1/events/stream"
    refused = [(None, ""), ("Bearer ", ""), ("Bearer x.y.z", ""), ("Basic YWRtaW46eA==", ""), (None, "?access_token="),
               (None, "?access_token=%00%ff"), (None, "?access_token=" + "A" * 5000), (f"Bearer {tokens['viewer']}x", ""),
               (None, f"?access_token={tokens['viewer'][:-2]}")]
    allowed = [(f"Bearer {t}", q) for t in tokens.values() for q in ("", "?since=0", "?x=%00", "?access_token=ignored")]
    allowed += [(None, f"?access_token={t}") for t in tokens.values()]
    for header, query in refused + allowed:
        request = urllib.request.Request(stream + query, headers={"Authorization": header} if header else {})
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                greeting = answer.read(len(": connected"))  # bounded: never waits for the end
                ok = answer.status == 200 and answer.headers.get("Content-Type") == "text/event-stream" and greeting == b": connected"
                if not ok or (header, query) in refused:
                    raise RuntimeError(f"the event stream with {header!r} {query[:40]!r}: {answer.status} {answer.headers.get('Content-Type')} {greeting!r}")
        except urllib.error.HTTPError as error:
            body = json.loads(error.read() or b"null")
            if (header, query) in allowed or error.code != 401 or (body or {}).get("error", {}).get("code") != "unauthorized":
                raise RuntimeError(f"the event stream with {header!r} {query[:40]!r}: {error.code} {body}")
    print(f"fuzz: event stream: {len(refused)} refused, {len(allowed)} streamed, each with a bounded read", flush=True)


def schemathesis(base, role, token, reports, examples, phases, seed=None):
    """Fuzzes every operation as `role`: (operations passed, operations failed), from the run's JUnit report. With a
    seed, a randomised run (new inputs) replayable by that seed; without, the deterministic one."""
    env = dict(os.environ, FUZZ_ACCESS_TOKEN=token, FUZZ_HOOK_TOKEN=HOOK_TOKEN)
    name = role if seed is None else f"{role}-random"
    report = os.path.join(reports, f"{name}.xml")
    config = os.path.join(HERE, "schemathesis.toml")
    if seed is not None:
        # The same settings, but new inputs: the deterministic switch can only be turned on from the command line.
        with open(config) as original:
            text = original.read().replace("deterministic = true", "deterministic = false")
        config = os.path.join(reports, "schemathesis-random.toml")
        with open(config, "w") as randomised:
            randomised.write(text)
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", config, "run",
               os.path.join(ROOT, "docs", "openapi.yaml"), "--url", base, "--max-examples", str(examples), "--phases", phases,
               "--report", "junit", "--report-junit-path", report, "--no-color"]
    if seed is not None:
        command += ["--seed", str(seed)]
    print(f"fuzz: schemathesis as {role}: {phases}, {examples} examples per operation and phase"
          + ("" if seed is None else f", randomised with seed {seed} (replay: FUZZ_SEED={seed} scripts/fuzz.sh)"), flush=True)
    code = subprocess.run(command, env=env, cwd=ROOT).returncode
    if not os.path.exists(report):
        return 0, 1
    totals = ElementTree.parse(report).getroot().attrib
    failed = int(totals["failures"]) + int(totals["errors"])
    passed = int(totals["tests"]) - failed - int(totals["skipped"])
    return passed, max(failed, 1 if code != 0 else 0)


def main():
    work = tempfile.mkdtemp(prefix="mtx-fuzz-")
    reports = os.path.join(ROOT, "fuzz-reports")
    shutil.rmtree(reports, ignore_errors=True)
    os.makedirs(reports)
    api_port, playback_port, port = free_port(), free_port(), free_port()
    recordings = os.path.join(work, "recordings")
    record_path = os.path.join(recordings, "%path", "%Y-%m-%d_%H-%M-%S-%f")
    env = dict(os.environ, MTX_COMPANION_MEDIAMTX_RECORD_PATH=record_path, MTX_COMPANION_DATABASE_PATH=os.path.join(work, "catalog.sqlite"),
               MTX_COMPANION_SERVER_PORT=str(port), MTX_COMPANION_MEDIAMTX_API_ADDRESS=f"http://127.0.0.1:{api_port}",
               MTX_COMPANION_MEDIAMTX_PLAYBACK_ADDRESS=f"http://127.0.0.1:{playback_port}", MTX_COMPANION_HOOK_TOKEN=HOOK_TOKEN,
               MTX_COMPANION_SERVER_UI_DIRECTORY=os.path.join(ROOT, "ui"),
               MTX_COMPANION_SERVER_OPENAPI_FILE=os.path.join(ROOT, "docs", "openapi.yaml"),
               # Random logins must not lock the fuzzer's own address out of the login route for the whole run.
               MTX_COMPANION_AUTH_LOGIN_MAX_FAILURES="1000")
    log = open(os.path.join(reports, "server.log"), "w")
    sim = subprocess.Popen([os.path.join(BIN, "mediamtx-sim"), "--api-port", str(api_port), "--playback-port", str(playback_port),
                            "--record-path", record_path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = None
    failed = []
    # Operations fuzzed, over the three roles' runs.
    passed_operations = failed_operations = 0
    try:
        for role, name in USERS.items():
            subprocess.run([os.path.join(BIN, "mtx-companion"), "users", "add", name, "--role", role, "--password-stdin", "--env", "test"],
                           input=PASSWORD + "\n", text=True, env=env, cwd=ROOT, check=True, capture_output=True)
        server = subprocess.Popen([os.path.join(BIN, "mtx-companion"), "serve", "--env", "test"], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        wait_http(f"http://127.0.0.1:{api_port}/v3/info")
        wait_http(base + "/api/openapi.yaml")
        tokens = {role: expect(*call(base, "/api/v1/auth/login", None, "POST", {"username": name, "password": PASSWORD}), 200, f"login {role}")["access_token"]
                  for role, name in USERS.items()}
        seed(base, tokens["admin"], recordings)
        check_event_stream(base, tokens)
        started = time.time()
        random_role, random_examples, random_phases = RANDOM_RUN
        random_seed = int(os.environ.get("FUZZ_SEED") or random.SystemRandom().randrange(1, 2**31))
        runs = [(role, *RUNS[role], None) for role in RUNS] + [(random_role, random_examples, random_phases, random_seed)]
        for role, examples, phases, run_seed in runs:
            if run_seed is not None:
                # The admin's run may have changed the other users' passwords (which ends their tokens): a user of its own.
                name = f"fuzz.random.{run_seed}"
                subprocess.run([os.path.join(BIN, "mtx-companion"), "users", "add", name, "--role", role, "--password-stdin", "--env", "test"],
                               input=PASSWORD + "\n", text=True, env=env, cwd=ROOT, check=True, capture_output=True)
                tokens[role] = expect(*call(base, "/api/v1/auth/login", None, "POST", {"username": name, "password": PASSWORD}), 200, "login")["access_token"]
            passed, failures = schemathesis(base, role, tokens[role], reports, examples, phases, run_seed)
            passed_operations += passed
            failed_operations += failures
            if failures:
                failed.append(f"schemathesis as {role}" + ("" if run_seed is None else f" (random, seed {run_seed})"))
            if server.poll() is not None:
                failed.append(f"the server exited ({server.returncode}) during the {role} run")
                failed_operations += 1
                break
        print(f"fuzz: schemathesis took {time.time() - started:.0f} s", flush=True)
    finally:
        for process in [server, sim]:
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=15)
        log.close()
        shutil.rmtree(work, ignore_errors=True)
    if failed:
        print("fuzz: FAILED: " + "; ".join(failed) + f" (reports and the server's log in {reports})", flush=True)
    else:
        print("fuzz: no 5xx, no answer outside docs/openapi.yaml, no crash", flush=True)
    print(f"fuzz: {passed_operations} passed, {failed_operations} failed", flush=True)
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
