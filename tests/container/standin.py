#!/usr/bin/env python3
"""Assembles the build context of the *stand-in* image used by the container test.

The stand-in is a test fixture, not a way to ship SOFATHEK: production images come from the
Nix flake (nix/images.nix, image-prod). This machine cannot build them (no Nix binary cache),
so the container test builds an image FROM scratch whose

  * configuration (user, env, entrypoint, command, healthcheck, volume, exposed port,
    working dir, labels) is read from nix/contract.json and Cargo.toml, the same sources
    nix/images.nix reads, so the two cannot drift; and whose
  * contents are copied from this machine: the release binary, Debian's tini-static,
    ffmpeg/ffprobe with every shared library ldd finds, the pip-installed yt-dlp with the
    CPython runtime it needs, CA certificates, tzdata, the web frontend, /etc/passwd and
    /etc/group with the service user. No shell, no package manager, no compiler: /bin
    holds exactly the five programs image-prod puts there.

It mirrors image-prod's trimmed composition (nix/ffmpeg-min.nix, nix/python.nix,
nix/yt-dlp.nix) so that its size is the closest figure of image-prod this project can
measure without Nix: with --ffmpeg-prefix, an ffmpeg built with ffmpeg-min's features
(tests/container/run builds it: libx264, libmp3lame, libwebp, dav1d, GnuTLS, no other
external library) instead of Debian's; the standard library without what nix/python.nix
drops (tkinter, idlelib, turtledemo, ensurepip, test directories, config-*, the readline,
curses and gdbm modules); bytecode at one level (no .opt-1/.opt-2.pyc); yt-dlp with only
yt-dlp-ejs and websockets; every ELF file stripped.

Usage: standin.py OUT_DIR --binary target/release/sofathek --web WEB_DIR [--revision REV]
                  [--ffmpeg-prefix DIR]
Writes OUT_DIR/Containerfile, OUT_DIR/{base,tools,init,app,web}/ and OUT_DIR/skel.tar (the layers, from
the most stable to the most often changed, as image-prod orders them).
"""

import argparse
import datetime
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# What nix/python.nix leaves out of the standard library (stripTkinter, stripIdlelib,
# stripTests, --without-ensurepip, stripConfig; site-packages gets only yt-dlp's packages),
# and its extension modules without readline, ncurses and gdbm.
STDLIB_SKIP = {"site-packages", "test", "idlelib", "tkinter", "turtledemo", "ensurepip"}
NESTED_TEST_DIRS = {"test", "tests", "idle_test"}
DYNLOAD_SKIP = re.compile(r"^(_tkinter|_test|xxlimited|_xxtestfuzz|_ctypes_test|_curses|readline|_gdbm|_dbm|nis|spwd|ossaudiodev)")
# One bytecode level (the plain one python3 loads), as nix/python.nix and nix/yt-dlp.nix.
EXTRA_BYTECODE = re.compile(r"\.opt-[12]\.pyc$")
# yt-dlp's Python dependencies that nix/yt-dlp.nix keeps, copied when installed.
YTDLP_DEPS = ("yt_dlp_ejs", "websockets")
SHELL_NAMES = {"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish", "busybox", "toybox"}


def die(message):
    print(f"standin: {message}", file=sys.stderr)
    sys.exit(1)


def ldd(paths):
    """Every shared library (resolved path as ldd prints it) the given ELF files load."""
    libs = set()
    for path in paths:
        out = subprocess.run(["ldd", str(path)], capture_output=True, text=True)
        if out.returncode != 0:
            if "not a dynamic executable" in out.stdout + out.stderr:
                continue
            die(f"ldd {path} failed: {out.stderr.strip()}")
        for line in out.stdout.splitlines():
            line = line.strip()
            if "not found" in line:
                die(f"{path}: missing library: {line}")
            m = re.match(r"\S+ => (/\S+) \(0x", line) or re.match(r"(/\S+) \(0x", line)
            if m:
                libs.add(m.group(1))
    return sorted(libs)


def image_path(host_path):
    """Where a host library goes in the image: Debian's merged-/usr layout (/lib -> usr/lib)."""
    p = os.path.normpath(host_path)
    for prefix, target in (("/lib64/", "usr/lib64/"), ("/lib/", "usr/lib/")):
        if p.startswith(prefix):
            return target + p[len(prefix):]
    if p.startswith("/usr/lib/") or p.startswith("/usr/lib64/"):
        return p.lstrip("/")
    # Anything else (e.g. a pyenv libpython) goes to the default search directory.
    return "usr/lib/x86_64-linux-gnu/" + os.path.basename(p)


def copy_file(src, dst, mode=None):
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst, follow_symlinks=True)
    st = os.stat(src)
    os.chmod(dst, mode if mode is not None else stat.S_IMODE(st.st_mode) & 0o755)
    # Keep the modification time: CPython's cached bytecode is only valid for it.
    os.utime(dst, ns=(st.st_mtime_ns, st.st_mtime_ns))


def copy_tree(src, dst, skip_top=(), skip_file=None, skip_dirs=()):
    for root, dirs, files in os.walk(src):
        rel = Path(root).relative_to(src)
        if rel == Path("."):
            dirs[:] = [d for d in dirs if d not in skip_top]
        dirs[:] = [d for d in dirs if d not in skip_dirs]
        target = dst / rel
        target.mkdir(parents=True, exist_ok=True)
        for name in files:
            if skip_file and skip_file(name):
                continue
            s = Path(root) / name
            if s.is_symlink() and not s.exists():
                continue
            copy_file(s, target / name)


def strip_elves(tree):
    """Strips every ELF file below `tree` (--strip-unneeded): the release binary as
    nix/package.nix builds it (strip = "symbols"), and the few libraries of this machine
    that ship with debug info (a pyenv CPython), as nixpkgs' libraries ship without it.
    Returns the bytes saved."""
    saved = 0
    for root, _dirs, files in os.walk(tree):
        for name in files:
            path = Path(root) / name
            if path.is_symlink():
                continue
            with open(path, "rb") as f:
                if f.read(4) != b"\x7fELF":
                    continue
            before = path.stat().st_size
            mode = stat.S_IMODE(path.stat().st_mode)
            os.chmod(path, mode | 0o200)
            out = subprocess.run(["strip", "--strip-unneeded", str(path)], capture_output=True, text=True)
            os.chmod(path, mode)
            if out.returncode != 0:
                # strip writes its result beside the file and renames it over the original,
                # so a failure leaves the original whole: the stand-in still holds a working
                # file, only a larger one, and the image is still held to its size budget
                # (tests/container/run). So go on, and say why with the free space beside it
                # (a CI run once stopped here with strip's reason captured and never shown).
                free = shutil.disk_usage(path.parent).free
                print(f"standin: WARNING: strip --strip-unneeded {path} exited {out.returncode} "
                      f"({(out.stderr or out.stdout).strip()[-500:] or 'no output'}); "
                      f"{free / 1e6:.0f} MB free there; kept unstripped", flush=True)
                continue
            saved += before - path.stat().st_size
    return saved


def which(name):
    found = shutil.which(name)
    if not found:
        die(f"{name} not found on PATH")
    return os.path.realpath(found)


def python_with_ytdlp():
    """The interpreter that has the pip-installed yt_dlp (this one, or python3 on PATH)."""
    probe = "import sys, yt_dlp; print(sys.executable); print(sys.base_prefix); print(yt_dlp.__file__); print(f'{sys.version_info[0]}.{sys.version_info[1]}')"
    for exe in (sys.executable, shutil.which("python3")):
        if not exe:
            continue
        out = subprocess.run([exe, "-c", probe], capture_output=True, text=True)
        if out.returncode == 0:
            executable, prefix, ytdlp_init, version = out.stdout.split()
            return os.path.realpath(executable), Path(prefix), Path(ytdlp_init).parent, version
    die("no python3 with yt_dlp installed (pip install yt-dlp==<pin>)")


def labels(contract, revision):
    manifest = tomllib.loads((REPO / "Cargo.toml").read_text())
    cargo = manifest["package"]
    workspace = manifest.get("workspace", {}).get("package", {})

    def field(key):
        # `version.workspace = true` and the like: the value is the workspace's, as for Cargo
        # (and crane's crateNameFromCargoToml, which nix/images.nix uses).
        value = cargo.get(key, "")
        return workspace.get(key, "") if isinstance(value, dict) else value

    created = subprocess.run(["git", "-C", str(REPO), "log", "-1", "--format=%cI"],
                             capture_output=True, text=True).stdout.strip()
    if created:
        created = datetime.datetime.fromisoformat(created).astimezone(datetime.timezone.utc)
        created = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    else:
        created = "1970-01-01T00:00:01Z"
    return {
        # The same keys and sources as nix/images.nix ...
        "org.opencontainers.image.title": field("name"),
        "org.opencontainers.image.description": field("description"),
        "org.opencontainers.image.source": field("repository"),
        "org.opencontainers.image.revision": revision,
        "org.opencontainers.image.version": field("version"),
        "org.opencontainers.image.licenses": field("license"),
        "org.opencontainers.image.created": created,
        # ... plus one that says what this is.
        "org.sofathek.test-fixture": "podman stand-in for image-prod (tests/container); not for shipping",
    }


def containerfile(contract, label_map):
    j = json.dumps
    hc = contract["healthcheck"]
    user = contract["user"]
    lines = [
        "# Generated by tests/container/standin.py from nix/contract.json: a TEST FIXTURE.",
        "FROM scratch",
        "COPY base/ /",
        "COPY tools/ /",
        "COPY init/ /",
        "COPY app/ /",
        "COPY web/ /",
        # A tar keeps the owner and mode of the directories themselves (COPY would not).
        "ADD skel.tar /",
    ]
    for key, value in contract["env"].items():
        lines.append(f"ENV {key}={j(value)}")
    lines += [
        f"USER {user['uid']}:{user['gid']}",
        f"WORKDIR {contract['workingDir']}",
        f"ENTRYPOINT {j(contract['entrypoint'])}",
        f"CMD {j(contract['cmd'])}",
        f"EXPOSE {contract['port']}/tcp",
        f"VOLUME {j([contract['dataPath']])}",
        "STOPSIGNAL SIGTERM",
        (f"HEALTHCHECK --interval={hc['intervalSeconds']}s --timeout={hc['timeoutSeconds']}s "
         f"--start-period={hc['startPeriodSeconds']}s --retries={hc['retries']} CMD {j(hc['command'])}"),
    ]
    for key, value in label_map.items():
        lines.append(f"LABEL {j(key)}={j(value)}")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--binary", type=Path, required=True)
    ap.add_argument("--web", type=Path, required=True)
    ap.add_argument("--revision", default="unknown")
    ap.add_argument("--ffmpeg-prefix", type=Path,
                    help="an ffmpeg install prefix (bin/ffmpeg, bin/ffprobe, lib/) to use instead of the one on PATH")
    args = ap.parse_args()

    contract = json.loads((REPO / "nix" / "contract.json").read_text())
    out = args.out
    if out.exists():
        shutil.rmtree(out)
    layers = {name: out / name for name in ("base", "tools", "init", "app", "web")}
    for d in layers.values():
        d.mkdir(parents=True)

    env = contract["env"]
    path_dirs = env["PATH"].split(":")
    if path_dirs != ["/bin"]:
        die(f"contract PATH {env['PATH']!r}: the stand-in only knows PATH=/bin")
    for prog in ("/bin/tini", "/bin/sofathek"):
        if prog not in contract["entrypoint"] + contract["healthcheck"]["command"]:
            die(f"contract no longer names {prog}: update tests/container/standin.py")

    if args.ffmpeg_prefix:
        ffmpeg = os.path.realpath(args.ffmpeg_prefix / "bin" / "ffmpeg")
        ffprobe = os.path.realpath(args.ffmpeg_prefix / "bin" / "ffprobe")
        for tool in (ffmpeg, ffprobe):
            if not os.access(tool, os.X_OK):
                die(f"{tool} missing in --ffmpeg-prefix")
    else:
        ffmpeg, ffprobe = which("ffmpeg"), which("ffprobe")
    tini = "/usr/bin/tini-static"
    if not os.path.exists(tini):
        die("tini-static missing (apt-get install tini)")
    py_exe, py_prefix, ytdlp_pkg, py_ver = python_with_ytdlp()

    # --- base: libraries, users, certificates, time zones --------------------------------
    base = layers["base"]
    (base / "usr/lib64").mkdir(parents=True)
    (base / "usr/lib/x86_64-linux-gnu").mkdir(parents=True)
    os.symlink("usr/lib", base / "lib")
    os.symlink("usr/lib64", base / "lib64")
    py_stdlib = py_prefix / "lib" / f"python{py_ver}"
    dynload = [p for p in sorted((py_stdlib / "lib-dynload").glob("*.so")) if not DYNLOAD_SKIP.match(p.name)]
    elves = [args.binary, ffmpeg, ffprobe, py_exe] + dynload
    for lib in ldd(elves):
        copy_file(lib, base / image_path(lib))
    uid, gid, name = contract["user"]["uid"], contract["user"]["gid"], contract["user"]["name"]
    (base / "etc").mkdir()
    (base / "etc/passwd").write_text(
        "root:x:0:0:root:/var/empty:/sbin/nologin\n"
        f"{name}:x:{uid}:{gid}:SOFATHEK:{contract['dataPath']}:/sbin/nologin\n"
        "nobody:x:65534:65534:nobody:/var/empty:/sbin/nologin\n")
    (base / "etc/group").write_text(f"root:x:0:\n{name}:x:{gid}:\nnogroup:x:65534:\n")
    (base / "etc/nsswitch.conf").write_text("passwd: files\ngroup: files\nhosts: files dns\n")
    cert = Path(env["SSL_CERT_FILE"])
    copy_file("/etc/ssl/certs/ca-certificates.crt", base / cert.relative_to("/"), 0o644)
    if cert.name != "ca-certificates.crt":
        os.symlink(cert.name, base / cert.parent.relative_to("/") / "ca-certificates.crt")
    copy_tree(Path("/usr/share/zoneinfo"), base / Path(env["TZDIR"]).relative_to("/"))

    # --- tools: ffmpeg, ffprobe, yt-dlp with its Python ----------------------------------
    tools = layers["tools"]
    copy_file(ffmpeg, tools / "bin/ffmpeg", 0o755)
    copy_file(ffprobe, tools / "bin/ffprobe", 0o755)
    pyhome = tools / "opt/python"
    copy_file(py_exe, pyhome / "bin" / f"python{py_ver}", 0o755)
    os.symlink(f"python{py_ver}", pyhome / "bin/python3")
    dst_stdlib = pyhome / "lib" / f"python{py_ver}"
    copy_tree(py_stdlib, dst_stdlib, skip_top=STDLIB_SKIP | {"lib-dynload"} | {d.name for d in py_stdlib.glob("config-*")},
              skip_dirs=NESTED_TEST_DIRS, skip_file=lambda n: bool(EXTRA_BYTECODE.search(n)))
    for so in dynload:
        copy_file(so, dst_stdlib / "lib-dynload" / so.name)
    site = dst_stdlib / "site-packages"
    one_level = lambda n: bool(EXTRA_BYTECODE.search(n))  # noqa: E731
    copy_tree(ytdlp_pkg, site / "yt_dlp", skip_file=one_level)
    # The dependencies image-prod keeps (nix/yt-dlp.nix), when installed here.
    for dep in YTDLP_DEPS:
        if (ytdlp_pkg.parent / dep).is_dir():
            copy_tree(ytdlp_pkg.parent / dep, site / dep, skip_file=one_level)
    # No shell in the image: the kernel runs this script through its #! line.
    ytdlp = tools / "bin/yt-dlp"
    ytdlp.write_text(
        f"#!/opt/python/bin/python{py_ver} -sE\n"
        "import sys\nfrom yt_dlp import main\nsys.exit(main())\n")
    os.chmod(ytdlp, 0o755)

    # --- init, app, web ------------------------------------------------------------------
    copy_file(tini, layers["init"] / "bin/tini", 0o755)
    copy_file(args.binary, layers["app"] / "bin/sofathek", 0o755)
    copy_tree(args.web, layers["web"] / Path(contract["webDir"]).relative_to("/"))
    # The data directory (owned by the service user, as image-prod's fakeRootCommands make it)
    # and a sticky, world-writable /tmp (the tmpfs of compose.yml covers it at run time).
    with tarfile.open(out / "skel.tar", "w") as tar:
        for path, owner, mode in ((contract["dataPath"], (uid, gid), 0o750), ("/tmp", (0, 0), 0o1777)):
            info = tarfile.TarInfo(path.lstrip("/"))
            info.type, info.mode, (info.uid, info.gid) = tarfile.DIRTYPE, mode, owner
            info.mtime = 1
            tar.addfile(info)

    # Nothing that could serve as a shell may end up in the image.
    for root, dirs, files in os.walk(out):
        for n in files + dirs:
            if n in SHELL_NAMES:
                die(f"shell-like file in the stand-in: {Path(root) / n}")

    saved = strip_elves(out)
    (out / "Containerfile").write_text(containerfile(contract, labels(contract, args.revision)))
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file() and not f.is_symlink())
    print(f"standin: context {out} ({size / 1e6:.1f} MB after stripping {saved / 1e6:.1f} MB), "
          f"python {py_ver} from {py_prefix}, ffmpeg {ffmpeg}")
    for name in ("base", "tools", "init", "app", "web"):
        part = sum(f.stat().st_size for f in (out / name).rglob("*") if f.is_file() and not f.is_symlink())
        print(f"standin:   {name:5} {part / 1e6:7.1f} MB")


if __name__ == "__main__":
    main()
