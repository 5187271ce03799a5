#!/usr/bin/env python3
"""The checks of the container test (tests/container/run prepares podman and the stand-in image,
then runs this under a hard time limit).

Drives compose.yml (production defaults), env/staging.env and compose.dev.yml with the real
Compose v2 binary against podman's Docker-compatible socket (DOCKER_HOST), and checks what the
container contract (docs/product.md sections 3-5, nix/contract.json) promises. Every check
prints one PASS/FAIL/SKIP line; the exit status is 1 when any check failed.

Environment (set by tests/container/run): CTEST_REPO, CTEST_WORK, CTEST_IMAGE, CTEST_BUDGET,
CTEST_COMPOSE (the docker-compose binary), DOCKER_HOST, CONTAINERS_CONF, CONTAINERS_STORAGE_CONF.
"""

import hashlib
import http.server
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

REPO = Path(os.environ["CTEST_REPO"])
WORK = Path(os.environ["CTEST_WORK"])
IMAGE = os.environ.get("CTEST_IMAGE", "sofathek:latest")
COMPOSE = os.environ.get("CTEST_COMPOSE", "docker-compose")
DEADLINE = time.monotonic() + float(os.environ.get("CTEST_BUDGET", "300"))
CONTRACT = json.loads((REPO / "nix" / "contract.json").read_text())
STAGING_ENV = REPO / "env" / "staging.env"
EMPTY_ENV = WORK / "empty.env"
# The image under test: the stand-in (tests/container/standin.py) or, with
# SOFATHEK_CTEST_IMAGE_ARCHIVE, the real image-prod (CTEST_REAL_IMAGE=1).
REAL_IMAGE = os.environ.get("CTEST_REAL_IMAGE") == "1"
KIND = "image-prod" if REAL_IMAGE else "stand-in image"
# yt-dlp's interpreter in the image; used only to probe from inside. The stand-in has it at
# /opt/python; image-prod has it in the Nix store (found by image_python()).
PY = "/opt/python/bin/python3"
TOOLS = ("yt-dlp", "ffmpeg", "ffprobe")

results = []  # (status, name, message)
projects_up = set()


# --------------------------------------------------------------------------- reporting
def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def record(name, ok, message="", diag=None):
    status = "PASS" if ok else "FAIL"
    results.append((status, name, message))
    line = f"{status}: {name}"
    if message:
        line += f" — {message}"
    print(line, flush=True)
    if not ok and diag:
        diagnostics(*diag)
    return ok


def skip(name, message):
    results.append(("SKIP", name, message))
    print(f"SKIP: {name} — {message}", flush=True)


def diagnostics(*containers):
    print("---- diagnostics ----", flush=True)
    print(podman("ps", "-a", "--format", "{{.Names}} {{.Status}} {{.Ports}}", check=False).stdout, flush=True)
    for ctr in containers:
        if not ctr:
            continue
        state = podman("inspect", "--format", "{{json .State}}", ctr, check=False)
        print(f"state of {ctr}: {state.stdout.strip()[:1500]}", flush=True)
        logs = podman("logs", "--tail", "40", ctr, check=False, timeout=20)
        print(f"last log lines of {ctr}:\n{logs.stdout}{logs.stderr}", flush=True)
    print("---- end of diagnostics ----", flush=True)


class Budget(Exception):
    pass


def remaining():
    left = DEADLINE - time.monotonic()
    if left <= 0:
        raise Budget("the container test's time budget is used up")
    return left


# --------------------------------------------------------------------------- processes
def run(cmd, timeout=60, env=None, check=True, input=None):
    timeout = min(timeout, remaining())
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, input=input)
    except subprocess.TimeoutExpired as e:
        raise RuntimeError(f"timed out after {timeout:.0f}s: {' '.join(map(str, cmd))}") from e
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited {proc.returncode}: {proc.stderr.strip()[-2000:]}")
    return proc


def podman(*args, timeout=60, check=True):
    return run(["podman", *args], timeout=timeout, check=check)


def inspect(ctr):
    return json.loads(podman("inspect", ctr).stdout)[0]


class Instance:
    """One compose project: compose.yml with an env file and/or interpolation variables."""

    def __init__(self, label, env_file=None, extra=None, files=("compose.yml",)):
        self.label = label
        self.env_file = env_file
        self.extra = dict(extra or {})
        self.files = files
        cfg = self.config()
        self.project = cfg["name"]
        self.service = cfg["services"]["sofathek"]
        self.port = int(next(p["published"] for p in self.service["ports"] if int(p["target"]) == CONTRACT["port"]))
        self.base = f"http://127.0.0.1:{self.port}"

    def env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SOFATHEK_", "COMPOSE_"))}
        env["SOFATHEK_ADMIN_PASSWORD_SECRET"] = str(WORK / "admin_password")
        env.update(self.extra)
        return env

    def cmd(self, *args):
        cmd = [COMPOSE, "--project-directory", str(REPO)]
        for f in self.files:
            cmd += ["-f", str(REPO / f)]
        # An explicit env file, so a developer's .env in the checkout never leaks in.
        cmd += ["--env-file", str(self.env_file or EMPTY_ENV)]
        return cmd + list(args)

    def compose(self, *args, timeout=120, check=True):
        return run(self.cmd(*args), timeout=timeout, env=self.env(), check=check)

    def config(self):
        return json.loads(self.compose("config", "--format", "json", timeout=30).stdout)

    def up(self):
        projects_up.add(self)
        self.compose("up", "-d", "--no-build", "--pull", "never", timeout=120)

    def container(self):
        out = podman("ps", "-a", "--filter", f"label=com.docker.compose.project={self.project}",
                     "--format", "{{.ID}}").stdout.split()
        return out[0] if out else None


def wait_for(what, predicate, timeout, interval=0.25):
    """Polls predicate() until it returns a truthy value; returns it, or None after timeout."""
    end = time.monotonic() + min(timeout, remaining())
    while True:
        try:
            value = predicate()
        except (OSError, RuntimeError, ValueError, KeyError):
            value = None
        if value:
            return value
        if time.monotonic() >= end:
            return None
        time.sleep(interval)


def wait_healthy(inst, timeout=45):
    """Drives the image's own healthcheck with `podman healthcheck run` until it says healthy.
    Returns (ok, message)."""
    state = {"out": "", "runs": 0}
    t0 = time.monotonic()

    def healthy():
        ctr = inst.container()
        if not ctr:
            return None
        r = podman("healthcheck", "run", ctr, check=False, timeout=15)
        state["runs"] += 1
        state["out"] = (r.stdout + r.stderr).strip() or f"exit {r.returncode}"
        if r.returncode != 0:
            return None
        st = inspect(ctr)["State"]
        health = st.get("Health") or st.get("Healthcheck") or {}
        state["out"] = f"State.Health.Status {health.get('Status')!r}"
        return health.get("Status") == "healthy"

    ok = wait_for(f"{inst.label} healthy", healthy, timeout, interval=1.0)
    took = time.monotonic() - t0
    if ok:
        return True, f"healthy {took:.1f}s after start ({state['runs']} healthcheck run(s))"
    return False, f"not healthy after {took:.0f}s and {state['runs']} healthcheck runs; last: {state['out']}"


# --------------------------------------------------------------------------- host-side /proc
def read_status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def cmdline(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return [a.decode(errors="replace") for a in f.read().split(b"\0") if a]


def procs_in_ns(ns):
    """Every process in the pid namespace `ns` (a readlink of /proc/PID/ns/pid)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.readlink(f"/proc/{entry}/ns/pid") != ns:
                continue
            st = read_status(entry)
            found.append({"pid": int(entry), "ppid": int(st["PPid"]), "name": st["Name"],
                          "state": st["State"][:1], "cmd": cmdline(entry)})
        except (OSError, KeyError, ValueError):
            continue
    return found


def is_tool(proc):
    text = " ".join([proc["name"]] + proc["cmd"][:3])
    return any(t in text for t in TOOLS) or "yt_dlp" in text


def container_procs(ctr):
    """(init host pid, pid namespace, service host pid or None) of a running container."""
    info = inspect(ctr)
    init = info["State"]["Pid"]
    if not init:
        return None, None, None
    ns = os.readlink(f"/proc/{init}/ns/pid")
    service = None
    for p in procs_in_ns(ns):
        if p["ppid"] == init and p["name"] == "sofathek":
            service = p["pid"]
    return init, ns, service


# --------------------------------------------------------------------------- HTTP
AUTH = {}  # base URL -> API token (a parent password exists, so the API wants one)


def request(method, url, body=None, headers=None, timeout=15, auth=True):
    headers = dict(headers or {})
    for base, token in AUTH.items():
        if auth and url.startswith(base + "/"):
            headers.setdefault("Authorization", f"Bearer {token}")
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=min(timeout, remaining())) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def api(method, url, payload=None, timeout=15, auth=True):
    body = json.dumps(payload).encode() if payload is not None else None
    headers = {"Content-Type": "application/json"} if body is not None else {}
    status, _, raw = request(method, url, body, headers, timeout, auth=auth)
    try:
        doc = json.loads(raw)
    except ValueError:
        doc = {"raw": raw[:300].decode(errors="replace")}
    data = doc.get("data", doc) if isinstance(doc, dict) else doc
    return status, data, doc


def upload(base, path):
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"video\"; filename=\"{path.name}\"\r\n"
            "Content-Type: video/mp4\r\n\r\n").encode()
    body = head + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    return api_raw("POST", f"{base}/api/videos/upload", body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})


def api_raw(method, url, body, headers):
    status, _, raw = request(method, url, body, headers, timeout=60)
    try:
        doc = json.loads(raw)
    except ValueError:
        doc = {"raw": raw[:300].decode(errors="replace")}
    return status, (doc.get("data", doc) if isinstance(doc, dict) else doc), doc


def wait_job(base, job_id, want, timeout):
    """Polls GET /api/jobs/:id until its state is in `want` (or a final state); returns the job."""
    last = {}

    def poll():
        status, job, _ = api("GET", f"{base}/api/jobs/{job_id}")
        if status == 200 and isinstance(job, dict):
            last.clear()
            last.update(job)
            if job.get("state") in want or job.get("state") in ("completed", "failed", "cancelled"):
                return True
        return None

    wait_for(f"job {job_id} {want}", poll, timeout, interval=0.5)
    return last


def videos(base):
    status, data, _ = api("GET", f"{base}/api/videos")
    if status != 200:
        raise RuntimeError(f"GET /api/videos answered {status}")
    return data["videos"] if isinstance(data, dict) else data


def video_by_id(base, video_id):
    return next((v for v in videos(base) if v.get("id") == video_id), None)


def check_stream(base, video):
    """Range requests against GET /api/stream/<file>; returns (ok, message, sha256 of the file)."""
    path, size = video["file"]["path"], int(video["file"]["size"])
    url = base + path
    status, headers, body = request("GET", url, headers={"Range": "bytes=0-99"})
    if status != 206 or len(body) != 100 or headers.get("Content-Range") != f"bytes 0-99/{size}":
        return False, f"bytes=0-99 gave {status}, {len(body)} bytes, Content-Range {headers.get('Content-Range')!r} (size {size})", None
    status, headers, tail = request("GET", url, headers={"Range": "bytes=-64"})
    if status != 206 or len(tail) != 64 or headers.get("Content-Range") != f"bytes {size - 64}-{size - 1}/{size}":
        return False, f"suffix range bytes=-64 gave {status}, {len(tail)} bytes, Content-Range {headers.get('Content-Range')!r}", None
    status, headers, whole = request("GET", url, timeout=60)
    if status != 200 or len(whole) != size:
        return False, f"full GET gave {status} with {len(whole)} of {size} bytes", None
    if whole[:100] != body or whole[-64:] != tail:
        return False, "ranges do not match the full body", None
    status, headers, _ = request("GET", url, headers={"Range": f"bytes={size}-"})
    if status != 416:
        return False, f"unsatisfiable range gave {status}, not 416", None
    return True, f"206 with Content-Range for bytes=0-99 and bytes=-64, 200 for {size} bytes, 416 past the end", hashlib.sha256(whole).hexdigest()


# --------------------------------------------------------------------------- local media server
class MediaServer:
    """A local HTTP server for yt-dlp's generic extractor: serves generated files with Range
    support, throttled to `rate` bytes/s per file until released."""

    def __init__(self):
        media = self
        self.files, self.rate, self.requests, self.sent = {}, {}, [], {}
        self.lock = threading.Lock()
        self.stopping = False

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_HEAD(self):
                self.serve(False)

            def do_GET(self):
                self.serve(True)

            def serve(self, with_body):
                name = self.path.split("?")[0].lstrip("/")
                data = media.files.get(name)
                rng = self.headers.get("Range")
                with media.lock:
                    media.requests.append((name, self.command, rng, time.monotonic()))
                if data is None:
                    self.send_error(404)
                    return
                start, end, status = 0, len(data) - 1, 200
                if rng and rng.startswith("bytes="):
                    a, _, b = rng[6:].partition("-")
                    try:
                        if a:
                            start, end = int(a), int(b) if b else len(data) - 1
                        else:
                            start = max(0, len(data) - int(b))
                    except ValueError:
                        start = len(data)
                    end = min(end, len(data) - 1)
                    if start > end:
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    status = 206
                self.send_response(status)
                self.send_header("Content-Type", "video/mp4")
                self.send_header("Accept-Ranges", "bytes")
                self.send_header("Content-Length", str(end - start + 1))
                self.send_header("Last-Modified", "Sat, 01 Jan 2000 00:00:00 GMT")
                self.send_header("Connection", "close")
                if status == 206:
                    self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
                self.end_headers()
                self.close_connection = True
                if not with_body:
                    return
                pos = start
                try:
                    while pos <= end and not media.stopping:
                        chunk = data[pos:min(pos + 4096, end + 1)]
                        self.wfile.write(chunk)
                        pos += len(chunk)
                        with media.lock:
                            media.sent[name] = media.sent.get(name, 0) + len(chunk)
                        rate = media.rate.get(name)
                        if rate:
                            time.sleep(len(chunk) / rate)
                except (BrokenPipeError, ConnectionResetError, socket.timeout):
                    pass

        self.server = http.server.ThreadingHTTPServer(("0.0.0.0", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.stopping = True
        self.server.shutdown()
        self.server.server_close()


def make_clip(path, seconds, size="640x360"):
    run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc=duration={seconds}:size={size}:rate=25",
         "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
         "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac",
         "-movflags", "+faststart", "-shortest", str(path)], timeout=60)
    return path


def free_port(preferred=None):
    for port in ([preferred] if preferred else []) + [0]:
        s = socket.socket()
        try:
            s.bind(("0.0.0.0", port))
            return s.getsockname()[1]
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free port")


# --------------------------------------------------------------------------- the checks
def check_image_contract():
    info = json.loads(podman("image", "inspect", IMAGE).stdout)[0]
    cfg = info["Config"]
    hc, user, problems = CONTRACT["healthcheck"], CONTRACT["user"], []
    expect = {
        "User": f"{user['uid']}:{user['gid']}",
        "Entrypoint": CONTRACT["entrypoint"],
        "Cmd": CONTRACT["cmd"],
        "WorkingDir": CONTRACT["workingDir"],
        "StopSignal": "SIGTERM",
    }
    for key, value in expect.items():
        if cfg.get(key) != value:
            problems.append(f"{key} is {cfg.get(key)!r}, contract says {value!r}")
    env = dict(e.split("=", 1) for e in cfg.get("Env") or [])
    if env != CONTRACT["env"]:
        problems.append(f"Env {env} differs from the contract's {CONTRACT['env']}")
    if f"{CONTRACT['port']}/tcp" not in (cfg.get("ExposedPorts") or {}):
        problems.append(f"port {CONTRACT['port']}/tcp not exposed")
    if CONTRACT["dataPath"] not in (cfg.get("Volumes") or {}):
        problems.append(f"{CONTRACT['dataPath']} not declared as a volume")
    health = info.get("Healthcheck") or info.get("HealthCheck") or cfg.get("Healthcheck") or {}
    want_health = {"Test": ["CMD"] + hc["command"], "Interval": hc["intervalSeconds"] * 10**9,
                   "Timeout": hc["timeoutSeconds"] * 10**9, "StartPeriod": hc["startPeriodSeconds"] * 10**9,
                   "Retries": hc["retries"]}
    for key, value in want_health.items():
        if health.get(key) != value:
            problems.append(f"healthcheck {key} is {health.get(key)!r}, contract says {value!r}")
    labels = cfg.get("Labels") or {}
    for key in ("title", "description", "source", "revision", "version", "licenses", "created"):
        if f"org.opencontainers.image.{key}" not in labels:
            problems.append(f"label org.opencontainers.image.{key} missing")
    record(f"{KIND} config equals nix/contract.json (user, env, entrypoint, cmd, healthcheck, volume, port, labels)",
           not problems, "; ".join(problems) or f"{IMAGE}, {info['Size'] // (1 << 20)} MB")


def resolve_in(root, path):
    """`path` (absolute, inside the image) with its symlinks followed inside `root` (the
    mounted image), as the container would see it."""
    parts = list(Path(path).parts[1:])
    current = Path("/")
    for _ in range(64):
        if not parts:
            return current
        candidate = current / parts.pop(0)
        host = root / str(candidate).lstrip("/")
        if host.is_symlink():
            target = Path(os.readlink(host))
            parts = list((target if target.is_absolute() else candidate.parent / target).parts[1:]) + parts
            current = Path("/")
        else:
            current = candidate
    return current


def image_python(root):
    """The Python that runs yt-dlp in image-prod: the `#!` interpreter of the script behind
    /bin/yt-dlp (nixpkgs wraps it: bin/yt-dlp runs bin/.yt-dlp-wrapped)."""
    ytdlp = resolve_in(root, "/bin/yt-dlp")
    for script in (ytdlp.parent / f".{ytdlp.name}-wrapped", ytdlp):
        try:
            first = (root / str(script).lstrip("/")).read_bytes().split(b"\n", 1)[0].decode()
        except (OSError, UnicodeDecodeError):
            continue
        if first.startswith("#!") and "python" in first:
            return first[2:].split()[0]
    found = sorted(root.glob("nix/store/*-python3-*/bin/python3"))
    return "/" + str(found[0].relative_to(root)) if found else PY


def check_no_shell_in_image():
    global PY
    mount = podman("image", "mount", IMAGE).stdout.strip()
    try:
        root = Path(mount)
        # Paths as the container sees them (image-prod's are symlinks into the store).
        inside = lambda p: root / str(resolve_in(root, p)).lstrip("/")  # noqa: E731
        on_path = sorted(p.name for p in inside("/bin").iterdir())
        shells = []
        store_shells = []
        names = {"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish", "busybox", "toybox"}
        for dirpath, dirs, files in os.walk(root):
            found = [os.path.join(dirpath, n)[len(mount):] for n in files + dirs if n in names]
            if REAL_IMAGE:
                # image-prod: interpreters of store scripts (bash for the Python wrapper of
                # yt-dlp) live in the Nix store, reachable by no PATH; anywhere else counts.
                store_shells += [f for f in found if f.startswith("/nix/store/")]
                found = [f for f in found if not f.startswith("/nix/store/")]
            shells += found
        if REAL_IMAGE:
            PY = image_python(root)
        managers = [n for n in ("apt", "apt-get", "dpkg", "pip", "pip3", "nix", "cc", "gcc", "cargo") if n in on_path]
        data = os.stat(inside(CONTRACT["dataPath"]))
        tmp = os.stat(inside("/tmp"))
        passwd = inside("/etc/passwd").read_text().splitlines()
        group = inside("/etc/group").read_text().splitlines()
    finally:
        podman("image", "unmount", IMAGE, check=False)
    user = CONTRACT["user"]
    layout = []
    if (data.st_uid, data.st_gid) != (user["uid"], user["gid"]):
        layout.append(f"{CONTRACT['dataPath']} owned by {data.st_uid}:{data.st_gid}")
    if stat.S_IMODE(tmp.st_mode) != 0o1777:
        layout.append(f"/tmp mode {oct(stat.S_IMODE(tmp.st_mode))}")
    if not any(l.split(":")[:4] == [user["name"], "x", str(user["uid"]), str(user["gid"])] for l in passwd):
        layout.append(f"/etc/passwd lacks {user['name']} {user['uid']}:{user['gid']}")
    if not any(l.split(":")[:3] == [user["name"], "x", str(user["gid"])] for l in group):
        layout.append(f"/etc/group lacks {user['name']} {user['gid']}")
    record(f"image: {user['name']} {user['uid']}:{user['gid']} in /etc/passwd and /etc/group, {CONTRACT['dataPath']} owned by it, /tmp 1777",
           not layout, "; ".join(layout) or f"{CONTRACT['dataPath']} mode {oct(stat.S_IMODE(data.st_mode))}")
    expected = ["ffmpeg", "ffprobe", "sofathek", "tini", "yt-dlp"]
    if store_shells:
        print(f"note: {KIND} has shells only as store-script interpreters: {sorted(set(store_shells))[:6]}")
    record("image: PATH (/bin) holds exactly sofathek, tini, ffmpeg, ffprobe, yt-dlp; no shell anywhere"
           + (" outside the Nix store" if REAL_IMAGE else ""),
           on_path == expected and not shells and not managers,
           f"/bin = {on_path}" + (f"; shells: {shells}" if shells else "") + (f"; managers: {managers}" if managers else ""))


def check_compose_configs(prod, staging):
    svc, hc = prod.service, CONTRACT["healthcheck"]
    problems = []
    if svc.get("user") != f"{CONTRACT['user']['uid']}:{CONTRACT['user']['gid']}":
        problems.append(f"user {svc.get('user')!r}")
    if svc.get("healthcheck", {}).get("test") != ["CMD"] + hc["command"]:
        problems.append(f"healthcheck test {svc.get('healthcheck', {}).get('test')!r}")
    if not svc.get("read_only"):
        problems.append("read_only is not true")
    if "ALL" not in (svc.get("cap_drop") or []):
        problems.append("cap_drop lacks ALL")
    if not any(o.startswith("no-new-privileges") and not o.endswith("false") for o in svc.get("security_opt") or []):
        problems.append("no-new-privileges not set")
    if not any(str(t).split(":")[0] == "/tmp" for t in svc.get("tmpfs") or []):
        problems.append("no tmpfs /tmp")
    if not any(v.get("target") == CONTRACT["dataPath"] for v in svc.get("volumes") or []):
        problems.append(f"nothing mounted at {CONTRACT['dataPath']}")
    if svc.get("restart") not in ("always", "unless-stopped", "on-failure"):
        problems.append(f"restart policy {svc.get('restart')!r} does not restart after a crash")
    record("compose.yml (production defaults) agrees with the contract", not problems, "; ".join(problems))
    record("env/staging.env gives its own project name and port",
           staging.project != prod.project and staging.port != prod.port,
           f"project {staging.project!r} vs {prod.project!r}, port {staging.port} vs {prod.port}")
    try:
        dev = Instance("dev", files=("compose.yml", "compose.dev.yml")).service
        dproblems = []
        if not str(dev.get("image", "")).endswith(CONTRACT["images"]["dev"]):
            dproblems.append(f"image {dev.get('image')!r}")
        if not any(v.get("type") == "bind" and v.get("target") == CONTRACT["dev"]["workingDir"]
                   and Path(v.get("source", "")).resolve() == REPO.resolve() for v in dev.get("volumes") or []):
            dproblems.append(f"the source is not bind-mounted at {CONTRACT['dev']['workingDir']}")
        if dev.get("read_only"):
            dproblems.append("still read-only")
        if (dev.get("environment") or {}).get("SOFATHEK_ENV") != "development":
            dproblems.append("SOFATHEK_ENV is not development")
        if "deploy" in dev and (dev["deploy"].get("resources") or {}).get("limits"):
            dproblems.append("resource limits still set")
        record("compose.yml + compose.dev.yml validates (docker-compose config) and is a development setup",
               not dproblems, "; ".join(dproblems) or "sofathek:dev, source bind-mounted at /app, writable, no limits")
    except RuntimeError as e:
        record("compose.yml + compose.dev.yml validates (docker-compose config)", False, str(e))
    skip("dev override started with hot reload",
         "no stand-in for sofathek:dev (toolchain, watcher): a real `cargo build` inside it does not fit the "
         "time budget; only a Nix-built image-dev can show this (see tests/container/README.md)")


def get_token(inst):
    """The operator's way to an API token: `compose exec sofathek sofathek admin create-token`.
    Before that, checks that the parent password from the compose secret is in force."""
    status, _, doc = api("POST", f"{inst.base}/api/categories", {"name": "Unauthenticated"}, auth=False)
    record(f"{inst.label}: the admin password secret is applied (a mutation without credentials gets 401)",
           status == 401, f"{status}: {json.dumps(doc)[:200]}")
    r = inst.compose("exec", "-T", "sofathek", "/bin/sofathek", "admin", "create-token", "--name",
                     "container test", timeout=60, check=False)
    lines = r.stdout.strip().splitlines()
    ok = r.returncode == 0 and len(lines) >= 1 and len(lines[-1]) >= 16 and " " not in lines[-1]
    record(f"{inst.label}: `compose exec sofathek sofathek admin create-token` gives an API token", ok,
           "token created" if ok else f"exit {r.returncode}: {(r.stdout + r.stderr).strip()[-300:]}")
    if ok:
        AUTH[inst.base] = lines[-1]
    return ok


def check_security(inst):
    ctr = inst.container()
    info = inspect(ctr)
    init, ns, service = container_procs(ctr)
    want_init = CONTRACT["entrypoint"] + CONTRACT["cmd"]
    got_init = cmdline(init)
    record("PID 1 is the image's init (tini) running the service",
           got_init == want_init and service is not None,
           f"pid 1: {got_init}, service pid {service} (host)", diag=(ctr,))
    if service is None:
        return
    problems = []
    for pid, what in ((service, "sofathek"), (init, "tini")):
        st = read_status(pid)
        uid, gid = str(CONTRACT["user"]["uid"]), str(CONTRACT["user"]["gid"])
        if st["Uid"].split() != [uid] * 4 or st["Gid"].split() != [gid] * 4:
            problems.append(f"{what}: Uid {st['Uid']} Gid {st['Gid']}")
        if set(st.get("Groups", "").split()) - {gid}:
            problems.append(f"{what}: supplementary groups {st['Groups']}")
        for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
            if int(st[cap], 16) != 0:
                problems.append(f"{what}: {cap} {st[cap]}")
        if st.get("NoNewPrivs") != "1":
            problems.append(f"{what}: NoNewPrivs {st.get('NoNewPrivs')}")
    svc_status = read_status(service)
    record("service runs as uid/gid 1001 with no capabilities and no-new-privileges (from /proc/PID/status)",
           not problems, "; ".join(problems) or
           f"Uid {svc_status['Uid']}, CapEff/CapPrm/CapBnd {svc_status['CapEff']}/{svc_status['CapPrm']}/{svc_status['CapBnd']}, NoNewPrivs {svc_status['NoNewPrivs']}")
    # Resource limits as compose.yml sets them, read back from the cgroup.
    hc = info["HostConfig"]
    limits = (inst.service.get("deploy") or {}).get("resources", {}).get("limits", {})
    cg = {}
    with open(f"/proc/{service}/cgroup") as f:
        for line in f:
            _, controllers, path = line.strip().split(":", 2)
            for c in controllers.split(","):
                cg[c] = path
    problems = []

    def cgread(*candidates):
        for c in candidates:
            try:
                return Path(c).read_text().strip()
            except OSError:
                continue
        return None
    mem = cgread(f"/sys/fs/cgroup/memory{cg.get('memory', '')}/memory.limit_in_bytes",
                 f"/sys/fs/cgroup{cg.get('', '')}/memory.max")
    pids = cgread(f"/sys/fs/cgroup/pids{cg.get('pids', '')}/pids.max", f"/sys/fs/cgroup{cg.get('', '')}/pids.max")
    if limits.get("memory") and str(mem) != str(int(limits["memory"])):
        problems.append(f"memory limit {mem}, compose says {limits['memory']}")
    if limits.get("pids") and str(pids) != str(limits["pids"]):
        problems.append(f"pids limit {pids}, compose says {limits['pids']}")
    if limits.get("cpus") and hc.get("NanoCpus") != int(float(limits["cpus"]) * 1e9):
        problems.append(f"NanoCpus {hc.get('NanoCpus')}, compose says cpus {limits['cpus']}")
    record("resource limits of compose.yml are applied (memory, pids in the cgroup; cpus)",
           not problems, "; ".join(problems) or f"memory {mem}, pids {pids}, NanoCpus {hc.get('NanoCpus')}")


def check_read_only(inst):
    ctr = inst.container()
    info = inspect(ctr)
    probe = ("import errno, json, os, sys\nout = {}\nfor p in sys.argv[1:]:\n"
             "    f = os.path.join(p, '.ctest-probe')\n    try:\n"
             "        open(f, 'w').write('x'); os.unlink(f); out[p] = 'written'\n"
             "    except OSError as e:\n        out[p] = errno.errorcode.get(e.errno, str(e.errno))\n"
             "print(json.dumps(out))\n")
    outside = ["/", "/etc", "/bin", "/app", CONTRACT["webDir"], "/share"]
    # Where each image keeps its programs' files: the stand-in /opt and /usr/lib, image-prod
    # the Nix store.
    outside += ["/nix/store"] if REAL_IMAGE else ["/opt", "/usr/lib"]
    # As root inside the container (no capabilities, so only the mount can stop it): EROFS.
    r = podman("exec", "--user", "0", ctr, PY, "-c", probe, *outside, check=False)
    try:
        got = json.loads(r.stdout)
    except ValueError:
        got = {"error": (r.stdout + r.stderr).strip()[-300:]}
    bad = {p: v for p, v in got.items() if v != "EROFS"}
    record("root filesystem is read-only: writes outside /app/data and /tmp fail with EROFS (even as uid 0)",
           info["HostConfig"].get("ReadonlyRootfs") is True and not bad and len(got) == len(outside),
           f"ReadonlyRootfs={info['HostConfig'].get('ReadonlyRootfs')}; " + (f"not refused: {bad}" if bad else f"{len(got)} paths refused"))
    r = podman("exec", ctr, PY, "-c", probe, CONTRACT["dataPath"], "/tmp", check=False)
    try:
        got = json.loads(r.stdout)
    except ValueError:
        got = {"error": (r.stdout + r.stderr).strip()[-300:]}
    record("the service user can write /app/data and /tmp", all(v == "written" for v in got.values()) and len(got) == 2, json.dumps(got))
    r1 = podman("exec", ctr, "sh", "-c", "true", check=False)
    r2 = podman("exec", ctr, "/bin/sh", "-c", "true", check=False)
    record("no shell in the running container (`exec sh` and `exec /bin/sh` fail)",
           r1.returncode != 0 and r2.returncode != 0, f"exit codes {r1.returncode}, {r2.returncode}")


def check_diff(inst):
    """After the service has worked: nothing changed in the container's own filesystem outside
    /app/data and /tmp (the only entries are mount points the runtime itself creates)."""
    ctr = inst.container()
    out = podman("diff", ctr).stdout.split("\n")
    allowed = {"/etc", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/run", "/run/secrets",
               "/run/.containerenv", "/var", "/var/tmp", "/dev", "/proc", "/sys", CONTRACT["dataPath"], "/tmp"}
    changes = [line.split(None, 1)[1] for line in out if line.strip()]
    unexpected = [c for c in changes if c not in allowed and not c.startswith(("/run/secrets/", CONTRACT["dataPath"] + "/", "/tmp/"))]
    record("`podman diff`: nothing written outside /app/data and /tmp (only runtime mount points)",
           not unexpected, f"unexpected: {unexpected}" if unexpected else f"{len(changes)} runtime mount points")


def ingest_present(inst):
    status, _, raw = request("GET", f"{inst.base}/api/openapi.json")
    if status != 200:
        return False
    paths = json.loads(raw).get("paths", {})
    return "/api/videos/upload" in paths and "/api/jobs" in paths


def check_upload(inst, clip):
    status, job, doc = upload(inst.base, clip)
    if not record(f"upload through the published port {inst.port} is accepted (202 + job)",
                  status == 202 and isinstance(job, dict) and job.get("id"),
                  f"{status}: {json.dumps(doc)[:300]}", diag=(inst.container(),)):
        return None
    job = wait_job(inst.base, job["id"], ("completed",), 90)
    if not record("the upload is processed (job completed with a videoId)",
                  job.get("state") == "completed" and job.get("videoId"),
                  f"state {job.get('state')}, stage {job.get('stage')}, error {job.get('error')}", diag=(inst.container(),)):
        return None
    video = video_by_id(inst.base, job["videoId"])
    if not record("the video is in the library (GET /api/videos)", video is not None, f"videoId {job['videoId']}"):
        return None
    ok, message, digest = check_stream(inst.base, video)
    record("the video streams back with Range requests (GET /api/stream/<file>)", ok, message, diag=(inst.container(),))
    return (video, digest) if ok else None


def check_survives_down_up(inst, uploaded):
    """A category (always) and the uploaded video (when ingest exists) survive down + up."""
    slug_name = f"Container test {uuid.uuid4().hex[:8]}"
    status, cat, doc = api("POST", f"{inst.base}/api/categories", {"name": slug_name})
    slug = cat.get("slug") if isinstance(cat, dict) else None
    if not record("a category is created (data written to the volume)", status == 201 and slug,
                  f"{status}: {json.dumps(doc)[:200]}"):
        return
    inst.compose("down", timeout=90)
    gone = inst.container() is None
    inst.up()
    ok, out = wait_healthy(inst)
    if not record("`compose down` + `up`: container recreated and healthy", gone and ok,
                  f"container removed by down: {gone}; healthcheck: {out}", diag=(inst.container(),)):
        return
    _, data, _ = api("GET", f"{inst.base}/api/categories")
    slugs = [c.get("slug") for c in (data.get("categories", []) if isinstance(data, dict) else data)]
    problems = [] if slug in slugs else [f"category {slug} is gone"]
    detail = f"category {slug} kept"
    if uploaded:
        video, digest = uploaded
        again = video_by_id(inst.base, video["id"])
        if again is None:
            problems.append(f"video {video['id']} is gone")
        else:
            ok, message, digest2 = check_stream(inst.base, again)
            if not ok or digest2 != digest:
                problems.append(message if not ok else "the video's bytes differ")
            detail += f", video {video['id']} streams the same bytes (sha256 {digest[:12]}…)"
    record("data survives `compose down` + `up` (named volume)", not problems, "; ".join(problems) or detail)


def check_staging(prod, staging, clip, have_ingest):
    staging.up()
    ok, out = wait_healthy(staging)
    if not record(f"staging ({staging.project}) becomes healthy next to production", ok, out, diag=(staging.container(),)):
        return
    get_token(staging)
    sp, pp = inspect(staging.container()), inspect(prod.container())
    s_vol = next((m["Name"] for m in sp["Mounts"] if m["Destination"] == CONTRACT["dataPath"]), None)
    p_vol = next((m["Name"] for m in pp["Mounts"] if m["Destination"] == CONTRACT["dataPath"]), None)
    _, s_health, _ = api("GET", f"{staging.base}/api/health")
    _, p_health, _ = api("GET", f"{prod.base}/api/health")
    env = dict(e.split("=", 1) for e in sp["Config"]["Env"])
    record("staging is a second instance: own port, own data volume, SOFATHEK_ENV=staging, LOG_LEVEL=debug",
           staging.port != prod.port and s_vol and s_vol != p_vol and s_health.get("environment") == "staging"
           and p_health.get("environment") == "production" and env.get("LOG_LEVEL") == "debug",
           f"ports {staging.port}/{prod.port}, volumes {s_vol}/{p_vol}, environment {s_health.get('environment')}/{p_health.get('environment')}, LOG_LEVEL {env.get('LOG_LEVEL')}")
    def log_lines():
        r = podman("logs", staging.container(), check=False)
        return [line for line in (r.stdout + r.stderr).splitlines() if line.strip()]
    logs = wait_for("staging log lines", log_lines, 10) or []
    json_lines = sum(1 for line in logs if line.startswith("{") and _is_json(line))
    record("staging logs are JSON lines", logs and json_lines == len(logs), f"{json_lines} of {len(logs)} lines are JSON")
    before = [v["id"] for v in videos(prod.base)]
    s_before = [v["id"] for v in videos(staging.base)]
    if have_ingest:
        status, job, _ = upload(staging.base, clip)
        job = wait_job(staging.base, job.get("id", "none"), ("completed",), 60) if status == 202 else {}
        after_s = [v["id"] for v in videos(staging.base)]
        after_p = [v["id"] for v in videos(prod.base)]
        record("staging's data is independent (its upload is not in production's library, and vice versa)",
               job.get("state") == "completed" and not set(before) & set(s_before)
               and job.get("videoId") in after_s and job.get("videoId") not in after_p and after_p == before,
               f"staging {len(after_s)} videos, production {len(after_p)}")
    else:
        record("staging's library is independent of production's", not set(before) & set(s_before),
               f"production {len(before)} videos, staging {len(s_before)}")
    staging.compose("down", "-v", timeout=90)
    projects_up.discard(staging)


def _is_json(line):
    try:
        json.loads(line)
        return True
    except ValueError:
        return False


def start_slow_download(inst, media, name, timeout=40):
    """Queues a URL download from the local media server and waits until yt-dlp runs in the
    container and bytes flow. Returns (job id, tool processes) or (None, message)."""
    url = f"http://host.containers.internal:{media.port}/{name}"
    status, job, doc = api("POST", f"{inst.base}/api/jobs", {"url": url})
    if status != 202 or not isinstance(job, dict) or not job.get("id"):
        return None, f"POST /api/jobs {url} answered {status}: {json.dumps(doc)[:300]}"
    ctr = inst.container()

    def downloading():
        init, ns, _ = container_procs(ctr)
        tools = [p for p in procs_in_ns(ns) if is_tool(p)] if ns else []
        return tools if tools and media.sent.get(name, 0) >= 16384 else None

    tools = wait_for("yt-dlp running", downloading, timeout, interval=0.2)
    if not tools:
        _, j, _ = api("GET", f"{inst.base}/api/jobs/{job['id']}")
        return None, (f"no yt-dlp process with bytes flowing after {timeout}s (job: {json.dumps(j)[:300]}, "
                      f"server sent {media.sent.get(name, 0)} bytes)")
    return job["id"], tools


def check_stop(inst, media, grace, with_download):
    """`compose stop`: SIGTERM through tini; the service (and its children) must be gone
    before the grace period ends, with no tool process left behind at any moment."""
    ctr = inst.container()
    job_id = None
    if with_download:
        job_id, tools = start_slow_download(inst, media, "slow-stop.mp4")
        if not record("a URL download is running (yt-dlp in the container, fetching from a local server)",
                      job_id is not None, tools if job_id is None else f"job {job_id}: {sorted({p['name'] for p in tools})}",
                      diag=(ctr,)):
            return None
    init, ns, service = container_procs(ctr)
    orphans = []
    done = threading.Event()

    def watch():
        while not done.is_set():
            procs = procs_in_ns(ns)
            alive = {p["pid"] for p in procs}
            for p in procs:
                # A zombie is already dead (its reaping is the init's job, checked below).
                if is_tool(p) and p["state"] != "Z" and (p["ppid"] == init or service not in alive):
                    orphans.append(f"{p['name']} (pid {p['pid']}, parent {p['ppid']})")
            if not procs:
                return
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    t0 = time.monotonic()
    r = inst.compose("stop", timeout=grace + 30, check=False)
    took = time.monotonic() - t0
    done.set()
    watcher.join(5)
    info = inspect(ctr)
    left = procs_in_ns(ns)
    code = info["State"]["ExitCode"]
    what = "with a download running" if with_download else "(idle)"
    record(f"`compose stop` ends the service within its grace period ({grace:.0f}s) {what}",
           r.returncode == 0 and took < grace and code != 137 and not info["State"]["Running"],
           f"stopped in {took:.1f}s, exit code {code} (137 would be SIGKILL)"
           + (f"; compose: {r.stderr.strip()[-300:]}" if r.returncode else ""), diag=(ctr,))
    record("no orphan yt-dlp/ffmpeg during or after the stop" if with_download else "no process left after the stop",
           not orphans and not left,
           f"orphans: {sorted(set(orphans))}; left: {[p['name'] for p in left]}" if orphans or left
           else ("the service's children ended before it did" if with_download else "pid namespace empty"))
    time.sleep(3)
    record("the restart policy leaves an explicitly stopped service stopped",
           not inspect(ctr)["State"]["Running"], f"state {inspect(ctr)['State']['Status']}")
    return job_id


def check_crash(inst, media, stop_job, with_download):
    """SIGKILL of the service process: tini exits with it, podman's restart policy (applied by
    `podman container cleanup`, which conmon runs when the container exits: no systemd
    needed) starts the container again, and an interrupted download resumes."""
    inst.compose("start", timeout=60)
    ok, out = wait_healthy(inst)
    if not record("`compose start` after the stop: healthy", ok, out, diag=(inst.container(),)):
        return
    if stop_job:
        _, j, _ = api("GET", f"{inst.base}/api/jobs/{stop_job}")
        log(f"info: after stop + start, the download interrupted by the stop is {j.get('state')} "
            f"(attempts {j.get('attempts')}); cancelling it")
        api("DELETE", f"{inst.base}/api/jobs/{stop_job}")
    ctr = inst.container()
    job_id = None
    if with_download:
        job_id, tools = start_slow_download(inst, media, "slow-crash.mp4")
        if not record("a second URL download is running", job_id is not None,
                      tools if job_id is None else f"job {job_id}", diag=(ctr,)):
            return
    before = inspect(ctr)
    init, ns, service = container_procs(ctr)
    sent_before = media.sent.get("slow-crash.mp4", 0)
    t_kill = time.monotonic()
    os.kill(service, signal.SIGKILL)
    log(f"killed the service (host pid {service}) with SIGKILL" + (f" after {sent_before} bytes of the download" if with_download else ""))

    def restarted():
        info = inspect(ctr)
        return info if info["State"]["Running"] and info["State"]["Pid"] not in (0, before["State"]["Pid"]) else None

    info = wait_for("restart", restarted, 40, interval=0.25)
    policy = before["HostConfig"]["RestartPolicy"]["Name"]
    record(f"after a crash (SIGKILL of the service) the container is restarted (restart: {policy})",
           info is not None and info.get("RestartCount", 0) > before.get("RestartCount", 0),
           f"restarted in {time.monotonic() - t_kill:.1f}s, RestartCount {info.get('RestartCount')}" if info
           else "not restarted within 40s", diag=(ctr,))
    if info is None:
        return
    ok, out = wait_healthy(inst)
    record("healthy again after the crash", ok, out, diag=(ctr,))
    if with_download:
        media.rate.clear()  # let the resumed download finish quickly
        job = wait_job(inst.base, job_id, ("completed",), 120)
        resumed = [r for r in media.requests if r[0] == "slow-crash.mp4" and r[3] > t_kill]
        ranged = [r[2] for r in resumed if r[2]]
        record("the interrupted download resumes after the restart and completes",
               job.get("state") == "completed" and job.get("videoId"),
               f"state {job.get('state')}, attempts {job.get('attempts')}, error {job.get('error')}; "
               f"{len(resumed)} requests to the server after the crash"
               + (f", resumed with Range {ranged[0]}" if ranged else ", none with Range (restarted from 0)"),
               diag=(ctr,))
        if job.get("videoId"):
            video = video_by_id(inst.base, job["videoId"])
            ok, message, _ = (check_stream(inst.base, video) if video else (False, "not in the library", None))
            record("the resumed download is in the library and streams with Range", ok, message)
    init, ns, _ = container_procs(ctr)
    # A child may be a zombie for a moment before its parent reaps it: only one that is still
    # there a second later counts.
    zombies = {p["pid"] for p in procs_in_ns(ns) if p["state"] == "Z"}
    if zombies:
        time.sleep(1)
        zombies = [p for p in procs_in_ns(ns) if p["state"] == "Z" and p["pid"] in zombies]
    record("no zombie processes in the container (the init reaps)", not zombies,
           str(zombies) if zombies else "none after the crash, the restart and the resumed download")


def main():
    def terminated(*_):
        raise Budget("terminated from outside (the run script's time limit)")
    signal.signal(signal.SIGTERM, terminated)
    started = time.monotonic()
    EMPTY_ENV.write_text("")
    secret = WORK / "admin_password"
    secret.write_text("ctest-" + uuid.uuid4().hex + "\n")
    secret.chmod(0o644)
    media = None
    prod = None
    try:
        prod_port = free_port()
        staging_file_port = int(dict(
            l.split("=", 1) for l in STAGING_ENV.read_text().splitlines() if "=" in l and not l.startswith("#")
        ).get("SOFATHEK_PORT", "3002"))
        staging_port = free_port(staging_file_port)
        prod = Instance("production", extra={"SOFATHEK_PORT": str(prod_port)})
        staging_extra = {} if staging_port == staging_file_port else {"SOFATHEK_PORT": str(staging_port)}
        if staging_extra:
            log(f"note: port {staging_file_port} of env/staging.env is busy on this host: staging publishes {staging_port}")
        staging = Instance("staging", env_file=STAGING_ENV, extra=staging_extra)
        log(f"production: project {prod.project}, port {prod.port}; staging: project {staging.project}, port {staging.port}")

        check_image_contract()
        check_no_shell_in_image()
        check_compose_configs(prod, staging)

        workdir = WORK / "media"
        workdir.mkdir(exist_ok=True)
        clip = make_clip(workdir / "family-clip.mp4", 4)
        media = MediaServer()
        media.files["slow-stop.mp4"] = make_clip(workdir / "slow-stop.mp4", 6).read_bytes()
        media.files["slow-crash.mp4"] = make_clip(workdir / "slow-crash.mp4", 6).read_bytes()
        for name in media.files:
            media.rate[name] = 12 * 1024

        # ---- production defaults
        log("compose up (production defaults)")
        prod.up()
        ok, out = wait_healthy(prod)
        if not record("production: healthy through its own healthcheck (`podman healthcheck run`)", ok, out, diag=(prod.container(),)):
            raise Budget("production never became healthy: later checks would only repeat that")
        _, health, _ = api("GET", f"{prod.base}/api/health")
        tools = {c["name"]: c["status"] for c in health.get("checks", [])}
        record("ffmpeg, ffprobe and yt-dlp work inside the container (health probes pass)",
               all(tools.get(t) == "pass" for t in ("ffmpeg", "ffprobe", "yt_dlp")), json.dumps(tools))
        get_token(prod)
        check_security(prod)
        check_read_only(prod)

        r = podman("exec", prod.container(), PY, "-c",
                   "import sys, urllib.request; r = urllib.request.urlopen(sys.argv[1], timeout=10); "
                   "print(r.status, len(r.read(1000)))",
                   f"http://host.containers.internal:{media.port}/probe-missing", check=False, timeout=30)
        reach = (r.stdout + r.stderr).strip().splitlines()
        record("the container reaches the test's local media server (host.containers.internal)",
               r.returncode == 0 or "HTTP Error 404" in r.stderr, reach[-1] if reach else f"exit {r.returncode}")
        have_ingest = ingest_present(prod)
        no_ingest = "the ingest API (POST /api/videos/upload, /api/jobs) is not in this build's /api/openapi.json"
        uploaded = None
        if have_ingest:
            status, _, doc = api("POST", f"{prod.base}/api/jobs",
                                 {"url": f"http://host.containers.internal:{media.port}/slow-stop.mp4"})
            record("production default refuses URLs on private networks", 400 <= status < 500 and status not in (401, 403),
                   f"{status}: {json.dumps(doc)[:200]}")
            uploaded = check_upload(prod, clip)
        else:
            # The ingest pipeline is part of the product: its absence is a failure, not a skip.
            record("the ingest API is served (upload, URL jobs)", False, no_ingest)
        check_diff(prod)
        check_survives_down_up(prod, uploaded)

        # ---- staging next to production
        log("compose --env-file env/staging.env up")
        check_staging(prod, staging, clip, have_ingest)

        # ---- stop and crash (with downloads running: private URLs allowed for the local server)
        if have_ingest:
            log("compose up with SOFATHEK_ALLOW_PRIVATE_URLS=true (test only) for the download checks")
            prod.extra["SOFATHEK_ALLOW_PRIVATE_URLS"] = "true"
            prod.up()
            ok, out = wait_healthy(prod)
            if not record("production with private URLs allowed (test setting): healthy", ok, out,
                          diag=(prod.container(),)):
                raise Budget("the download checks need a healthy service")
        else:
            log("without the ingest API, stop and crash run without a download")
        grace = _seconds(prod.config()["services"]["sofathek"].get("stop_grace_period", "10s"))
        stop_job = check_stop(prod, media, grace, have_ingest)
        check_crash(prod, media, stop_job, have_ingest)
    except Budget as e:
        record("container test finished within its time budget", False, str(e))
    except Exception as e:  # a broken step must still print a FAIL line and clean up
        import traceback
        traceback.print_exc()
        record("container test ran to the end", False, f"{type(e).__name__}: {e}",
               diag=(prod.container(),) if prod else None)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if media:
            media.close()
        for inst in list(projects_up):
            try:
                subprocess.run(inst.cmd("down", "-v", "--timeout", "5"), env=inst.env(), capture_output=True, timeout=60)
            except Exception as e:  # the run script's trap removes whatever is left
                log(f"compose down of {inst.project} failed: {e}")
    passed = sum(1 for r in results if r[0] == "PASS")
    failed = [r for r in results if r[0] == "FAIL"]
    skipped = sum(1 for r in results if r[0] == "SKIP")
    print(f"\ncontainer test: {time.monotonic() - started:.0f}s of checks", flush=True)
    for status, name, message in failed:
        print(f"  failed: {name} — {message}", flush=True)
    print(f"{passed} passed, {len(failed)} failed, {skipped} skipped", flush=True)
    return 1 if failed else 0


def _seconds(value):
    if isinstance(value, (int, float)):
        return float(value) / (1e9 if value > 10**6 else 1)
    value = str(value)
    total, num = 0.0, ""
    units = {"h": 3600, "m": 60, "s": 1}
    for ch in value:
        if ch.isdigit() or ch == ".":
            num += ch
        elif ch in units:
            total += float(num or 0) * units[ch]
            num = ""
    return total + (float(num) if num else 0)


if __name__ == "__main__":
    sys.exit(main())
