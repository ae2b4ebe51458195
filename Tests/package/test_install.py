#!/usr/bin/env python3
"""The Debian package, installed on a machine that has never seen Swift.

Builds the release artefacts (scripts/release.sh), makes a clean Debian root with debootstrap (minbase and systemd; cached as a
tarball in $MTX_ROOT_CACHE, by default ~/.cache/mtx-companion/, when it is not there), installs the .deb there with
apt, then runs the installed server as its unit would (its user, its working directory, its command line; chroot
instead of systemd) against the MediaMTX simulator, creates the first admin with the installed CLI, logs in, creates
a source and sees the installed mtx-hook's event arrive. Also checks that no Swift runtime is linked or installed,
the files' owners and modes, and the unit with `systemd-analyze verify` and `security --offline`.

Prints the binary sizes and the installed server's cold start (spawn to /readyz 200) for BENCHMARKS.md.
MTX_DEB=FILE tests a package already built instead of building one.
"""
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VERSION = "0.1.0+ci"
SUITE = "bookworm"
MIRROR = os.environ.get("DEBOOTSTRAP_MIRROR", "http://deb.debian.org/debian")
CACHE = os.environ.get("MTX_ROOT_CACHE", os.path.expanduser("~/.cache/mtx-companion"))
PASSWORD = "an installed admin's password"


def log(message):
    print(f"test_install: {message}", flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*command, **kwargs):
    return subprocess.run(list(command), check=True, text=True, capture_output=True, **kwargs)


def http(url, method="GET", body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode(), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            data = answer.read()
            return answer.status, data
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (urllib.error.URLError, ConnectionError, socket.timeout):
        return None, b""


def wait_for(what, check, timeout=30, interval=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def build_package():
    if os.environ.get("MTX_DEB"):
        return os.environ["MTX_DEB"]
    started = time.time()
    subprocess.run([os.path.join(REPO, "scripts", "release.sh"), VERSION], check=True, cwd=REPO)
    log(f"release build and packaging: {time.time() - started:.0f} s")
    return os.path.join(REPO, "dist", f"mtx-companion_{VERSION}_amd64.deb")


def check_tarball(deb):
    """The tarball beside the .deb holds what an operator without apt needs."""
    import tarfile
    tarball = os.path.join(os.path.dirname(deb), f"mtx-companion-{VERSION}-linux-amd64.tar.gz")
    with tarfile.open(tarball) as archive:
        names = set(archive.getnames())
        modes = {m.name: m.mode for m in archive.getmembers()}
    top = f"mtx-companion-{VERSION}-linux-amd64"
    for name in ["bin/mtx-companion", "bin/mtx-hook", "ui/index.html", "docs/openapi.yaml", "docs/api.md", "configs/config.production.yaml",
                 "mediamtx.yml.example", "LICENSE", "INSTALL", "mtx-companion.service"]:
        assert f"{top}/{name}" in names, f"{name} missing from {tarball}"
    assert modes[f"{top}/bin/mtx-companion"] & 0o111 and modes[f"{top}/bin/mtx-hook"] & 0o111
    assert not [n for n in names if "mediamtx-sim" in n or "mtx-bench" in n], "test tools in the release"
    log(f"tarball: {len(names)} entries, binaries, UI, docs, config, INSTALL")


def clean_root(work):
    """A fresh minbase Debian root in work/root, from the cached tarball or from debootstrap."""
    root = os.path.join(work, "root")
    tarball = os.path.join(CACHE, f"debootstrap-{SUITE}-minbase-systemd.tar")
    if not os.path.exists(tarball):
        started = time.time()
        build = os.path.join(work, "debootstrap")
        if not shutil.which("debootstrap"):
            raise AssertionError("debootstrap is missing: scripts/install-deps.sh --test installs it")
        try:
            # minbase and systemd: a Debian machine as the package meets it (no Swift, nothing of ours).
            run("debootstrap", "--variant=minbase", "--include=systemd", SUITE, build, MIRROR)
        except subprocess.CalledProcessError as error:
            log(f"SKIPPED: debootstrap itself cannot run here: {error.stderr.strip().splitlines()[-1:]}")
            sys.exit(0)
        os.makedirs(CACHE, exist_ok=True)
        run("tar", "-C", build, "-cf", tarball + ".part", ".")
        os.replace(tarball + ".part", tarball)
        shutil.rmtree(build)
        log(f"debootstrap {SUITE} minbase: {time.time() - started:.0f} s (cached in {tarball})")
    os.makedirs(root)
    run("tar", "-C", root, "-xf", tarball)
    return root


def main():
    if os.geteuid() != 0:
        log("SKIPPED: installing a package into a chroot needs root (CI runs as root)")
        return
    deb = build_package()
    check_tarball(deb)
    work = tempfile.mkdtemp(prefix="mtx-install-")
    root = clean_root(work)
    mounted = []
    processes = []
    try:
        # A machine that has never seen Swift: no toolchain, no runtime library anywhere in the root.
        swift = run("find", root, "-xdev", "(", "-name", "libswift*", "-o", "-name", "swift*", "-o", "-name", "libFoundation*", ")").stdout
        assert not swift.strip(), swift
        run("mount", "-t", "proc", "proc", os.path.join(root, "proc"))
        mounted.append(os.path.join(root, "proc"))

        shutil.copy(deb, os.path.join(root, "tmp", "mtx-companion.deb"))
        shutil.copy("/etc/resolv.conf", os.path.join(root, "etc", "resolv.conf"))
        started = time.time()
        chroot = ["chroot", root, "env", "DEBIAN_FRONTEND=noninteractive", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"]
        run(*chroot, "apt-get", "update", "-qq")
        installed = run(*chroot, "apt-get", "install", "-y", "-qq", "--no-install-recommends", "/tmp/mtx-companion.deb")
        log(f"apt install of the package and its dependencies: {time.time() - started:.1f} s")
        assert "/etc/mtx-companion/env" in installed.stdout + installed.stderr, "post-install says how the secrets are set"

        check_installed_files(root)
        check_unit(root)
        serve_from_the_installed_files(root, work, processes)
        reinstall_keeps_what_is_the_operators(root, chroot)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        for point in reversed(mounted):
            subprocess.run(["umount", "-l", point])
        shutil.rmtree(work, ignore_errors=True)
    log("passed")


def reinstall_keeps_what_is_the_operators(root, chroot):
    """An upgrade (the same package again) keeps the edited config, the secrets and the catalogue."""
    config = os.path.join(root, "etc/mtx-companion/config.production.yaml")
    with open(config, "a") as f:
        f.write("# edited by the operator\n")
    before = {name: open(os.path.join(root, name), "rb").read() for name in ["etc/mtx-companion/env", "etc/mtx-companion/config.production.yaml"]}
    run(*chroot, "dpkg", "--force-confold", "-i", "/tmp/mtx-companion.deb")
    for name, content in before.items():
        assert open(os.path.join(root, name), "rb").read() == content, f"{name} changed on reinstall"
    users = run("chroot", "--userspec=mtx-companion:mtx-companion", root, "/usr/bin/mtx-companion", "users", "list", "--env", "production").stdout
    assert "admin" in users, users
    # Root would leave SQLite's files root's and lock the server out: refused, with the command to use instead.
    as_root = subprocess.run(["chroot", root, "/usr/bin/mtx-companion", "users", "list", "--env", "production"], text=True, capture_output=True)
    assert as_root.returncode != 0 and "runuser -u mtx-companion --" in as_root.stderr, as_root.stderr
    log("reinstall: config, secrets and catalogue kept")


def check_installed_files(root):
    def mode(path):
        info = os.stat(os.path.join(root, path.lstrip("/")))
        return stat.S_IMODE(info.st_mode), owner(root, info.st_uid, "passwd"), owner(root, info.st_gid, "group")

    assert mode("/etc/mtx-companion/config.production.yaml") == (0o640, "root", "mtx-companion"), mode("/etc/mtx-companion/config.production.yaml")
    assert mode("/etc/mtx-companion/env") == (0o640, "root", "mtx-companion"), mode("/etc/mtx-companion/env")
    assert mode("/var/lib/mtx-companion") == (0o700, "mtx-companion", "mtx-companion"), mode("/var/lib/mtx-companion")
    assert mode("/var/lib/mtx-hook/spool") == (0o2770, "root", "mtx-hook"), mode("/var/lib/mtx-hook/spool")
    assert os.path.exists(os.path.join(root, "var/lib/mtx-companion/catalog.sqlite")), "post-install migrated the catalogue"
    assert mode("/var/lib/mtx-companion/catalog.sqlite")[1] == "mtx-companion"
    conffiles = open(os.path.join(root, "var/lib/dpkg/info/mtx-companion.conffiles")).read().split()
    assert conffiles == ["/etc/mtx-companion/config.production.yaml"], conffiles
    for name in ["ui/index.html", "docs/openapi.yaml"]:
        assert os.path.exists(os.path.join(root, "usr/share/mtx-companion", name)), name

    version = run("chroot", root, "/usr/bin/mtx-companion", "--version").stdout.strip()
    assert version == VERSION, version
    sizes = {}
    for binary in ["mtx-companion", "mtx-hook"]:
        ldd = subprocess.run(["chroot", root, "ldd", f"/usr/bin/{binary}"], text=True, capture_output=True)
        libraries = ldd.stdout + ldd.stderr
        assert ldd.returncode == 0 or "not a dynamic executable" in libraries, libraries
        assert not re.search(r"libswift|libFoundation|libdispatch|libBlocksRuntime|not found", libraries), libraries
        sizes[binary] = os.path.getsize(os.path.join(root, "usr/bin", binary))
        shown = "static" if ldd.returncode else ", ".join(line.split()[0] for line in libraries.strip().splitlines())
        log(f"ldd /usr/bin/{binary}: {shown}")
    log("binary sizes: " + ", ".join(f"{name} {size / 1e6:.1f} MB" for name, size in sizes.items()))


def owner(root, number, database):
    for line in open(os.path.join(root, "etc", database)):
        fields = line.split(":")
        if int(fields[2]) == number:
            return fields[0]
    return str(number)


def check_unit(root):
    """systemd-analyze: the unit is valid against the installed root, and its hardening score."""
    unit = os.path.join(root, "lib/systemd/system/mtx-companion.service")
    verify = subprocess.run(["systemd-analyze", "verify", f"--root={root}", unit], text=True, capture_output=True)
    problems = [line for line in (verify.stdout + verify.stderr).splitlines() if "mtx-companion.service" in line]
    assert verify.returncode == 0 and not problems, verify.stdout + verify.stderr
    security = subprocess.run(["systemd-analyze", "security", "--offline=true", f"--root={root}", "mtx-companion.service"], text=True,
                              capture_output=True)
    score = re.search(r"Overall exposure level for mtx-companion.service: (.*)", security.stdout)
    assert score, security.stdout + security.stderr
    log(f"systemd-analyze verify: ok; security: {score.group(1)}")


def serve_from_the_installed_files(root, work, processes):
    sim = os.path.join(subprocess.check_output(["swift", "build", "--show-bin-path"], cwd=REPO, text=True).strip(), "mediamtx-sim")
    api_port, playback_port, port = free_port(), free_port(), free_port()
    recordings = os.path.join(work, "recordings")
    processes.append(subprocess.Popen([sim, "--api-port", str(api_port), "--playback-port", str(playback_port), "--record-path",
                                       recordings + "/%path/%Y-%m-%d_%H-%M-%S-%f"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    mediamtx = f"http://127.0.0.1:{api_port}"
    wait_for("the simulator", lambda: http(mediamtx + "/v3/info")[0] == 200)

    # What the unit gives: its user, its working directory, its ExecStart; the secrets come from /etc/mtx-companion/env,
    # which the server reads itself. The overrides only point it at this test's ports and let it wire MediaMTX's hooks
    # to the installed mtx-hook (run inside the root, as MediaMTX would run it on that machine).
    unit = open(os.path.join(root, "lib/systemd/system/mtx-companion.service")).read()
    exec_start = re.search(r"^ExecStart=(.*)$", unit, re.M).group(1).split()
    user = re.search(r"^User=(.*)$", unit, re.M).group(1)
    directory = re.search(r"^WorkingDirectory=(.*)$", unit, re.M).group(1)
    overrides = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "MTX_COMPANION_SERVER_HOST": "127.0.0.1",
        "MTX_COMPANION_SERVER_PORT": str(port),
        "MTX_COMPANION_MEDIAMTX_API_ADDRESS": mediamtx,
        "MTX_COMPANION_MEDIAMTX_PLAYBACK_ADDRESS": f"http://127.0.0.1:{playback_port}",
        "MTX_COMPANION_MEDIAMTX_MANAGE_HOOKS": "true",
        "MTX_COMPANION_MEDIAMTX_HOOK_COMMAND": f"chroot {root} /usr/bin/mtx-hook",
    }
    command = ["env", "-i"] + [f"{k}={v}" for k, v in overrides.items()]
    spawned = time.time()
    server = subprocess.Popen(["chroot", f"--userspec={user}:{user}", root, "/bin/sh", "-c", f'cd {directory} && exec "$@"', "sh"]
                              + command + exec_start, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    processes.append(server)
    base = f"http://127.0.0.1:{port}"
    wait_for("/readyz", lambda: server.poll() is None and http(base + "/readyz")[0] == 200 or server.poll() is not None)
    assert server.poll() is None, server.stdout.read()
    log(f"cold start of the installed mtx-companion (spawn to /readyz 200): {(time.time() - spawned) * 1000:.0f} ms")
    status, body = http(base + "/healthz")
    assert status == 200 and json.loads(body)["version"] == VERSION, body
    assert http(base + "/")[0] == 200, "the web UI from /usr/share/mtx-companion"
    assert http(base + "/api/openapi.yaml")[0] == 200, "the OpenAPI document from /usr/share/mtx-companion"

    # The first admin, with the installed CLI as the server's user: --env production finds /etc/mtx-companion.
    subprocess.run(["chroot", f"--userspec={user}:{user}", root, "env", "-i", "PATH=/usr/bin:/bin", "/usr/bin/mtx-companion", "users", "add",
                    "admin", "--role", "admin", "--password-stdin", "--env", "production"], input=PASSWORD + "\n", text=True, check=True,
                   capture_output=True)
    status, body = http(base + "/api/v1/auth/login", "POST", {"username": "admin", "password": PASSWORD})
    assert status == 200, body
    token = json.loads(body)["access_token"]

    # MediaMTX's environment, as mediamtx.yml.example says: the companion's URL, the token from /etc/mtx-companion/env,
    # the spool directory the package made.
    secrets = dict(line.split("=", 1) for line in open(os.path.join(root, "etc/mtx-companion/env")).read().splitlines()
                   if "=" in line and not line.startswith("#"))
    http(mediamtx + "/_sim/hook-environment", "POST", {"MTX_COMPANION_URL": base, "MTX_COMPANION_HOOK_TOKEN": secrets["MTX_COMPANION_HOOK_TOKEN"],
                                                       "MTX_COMPANION_SPOOL_DIR": "/var/lib/mtx-hook/spool", "MTX_COMPANION_NODE": "installed-root"})
    wait_for("the hooks wired to the installed mtx-hook",
             lambda: root in json.loads(http(mediamtx + "/v3/config/pathdefaults/get")[1]).get("runOnReady", "")
             or root in json.loads(http(mediamtx + "/v3/config/pathdefaults/get")[1]).get("runOnAvailable", ""))

    status, body = http(base + "/api/v1/sources", "POST", {"name": "Installed push", "type": "push"}, token)
    assert status == 201, body
    source = json.loads(body)
    assert "key=" in source["push_url"], source
    status, body = http(mediamtx + "/_sim/publish", "POST", {"path": source["path_name"], "source_type": "rtmpConn"})
    assert status == 200, body

    def online():
        status, body = http(f"{base}/api/v1/sources/{source['id']}?with_status=true", token=token)
        return status == 200 and json.loads(body).get("status", {}).get("online")
    wait_for("the installed mtx-hook's event", online)
    status, body = http(f"{base}/api/v1/sources/{source['id']}/events", token=token)
    events = json.loads(body)["items"]
    assert status == 200 and any(e["node"] == "installed-root" and e["type"] in ("available", "ready") for e in events), events
    log(f"the installed mtx-hook's events were indexed: {', '.join(e['type'] for e in events)}; the source is online")
    spool = os.listdir(os.path.join(root, "var/lib/mtx-hook/spool"))
    assert not [name for name in spool if not name.startswith(".")], f"nothing left in the spool: {spool}"

    # SIGTERM, as systemd stops the unit: a clean exit.
    server.send_signal(signal.SIGTERM)
    output, _ = server.communicate(timeout=30)
    assert server.returncode == 0, output
    assert "database closed" in output, output

    # Cold start, for BENCHMARKS.md: spawn to /readyz 200 (catalogue open and migrated, MediaMTX answering), the median
    # of 7; the baseline is the same binary's `--version` (process start and the runtime's own set-up) in the same run.
    def median(samples):
        return sorted(samples)[len(samples) // 2]
    starts, versions = [], []
    for _ in range(7):
        spawned = time.time()
        run_as = ["chroot", f"--userspec={user}:{user}", root, "/bin/sh", "-c", f'cd {directory} && exec "$@"', "sh"] + command
        server = subprocess.Popen(run_as + exec_start, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(server)
        wait_for("/readyz", lambda: http(base + "/readyz")[0] == 200, interval=0.002)
        starts.append(time.time() - spawned)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        spawned = time.time()
        subprocess.run(run_as + ["/usr/bin/mtx-companion", "--version"], check=True, capture_output=True)
        versions.append(time.time() - spawned)
    log(f"cold start to /readyz 200: median {median(starts) * 1000:.0f} ms of 7 (min {min(starts) * 1000:.0f}, max {max(starts) * 1000:.0f}); "
        f"`--version` median {median(versions) * 1000:.0f} ms; ratio {median(starts) / median(versions):.1f}x")


if __name__ == "__main__":
    main()
