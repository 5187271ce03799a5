# The CPython that runs yt-dlp in image-prod: nixpkgs' python3 with what yt-dlp never
# imports left out, and its bytecode compiled at one optimisation level instead of three.
#
# Every argument is a formal of pkgs/development/interpreters/python/cpython/default.nix
# (read in the stored nixpkgs copies 007088359e and 482a59bb; nixpkgs' own python3Minimal in
# pkgs/development/interpreters/python/default.nix passes the same `readline = null`,
# `ncurses = null`, `gdbm = null` and strip flags, and cpython's buildInputs drop nulls).
# Unlike python3Minimal it keeps openssl (`ssl`: yt-dlp's HTTPS), sqlite, tzdata, bzip2,
# xz, zlib, expat, libffi and mpdecimal (standard modules yt-dlp or its extractors import).
#
#   - x11Support = false (the default) and stripTkinter: no tkinter;
#   - stripIdlelib: no idlelib/turtledemo (and no bin/idle*);
#   - stripTests: no test/ directories in the standard library;
#   - stripConfig: no python3-config and lib/python3.*/config-* (static libpython, Makefile);
#   - readline = null, ncurses = null, gdbm = null: no readline/_curses/_dbm_gnu modules
#     and none of those libraries in the closure (yt-dlp never runs an interactive prompt);
#   - rebuildBytecode = false: the recipe compiles every module three times (plain, -O and
#     -OO, ~3 x 10 MB). postInstall below compiles once, at the level `python3` (without -O)
#     loads, so no module is compiled at run time on the read-only root file system.
#
# `self` must be the final interpreter so that `python.pkgs` (and the build-time Python of
# every package built with it) is this one (cpython/default.nix passthru, passthruFun).
{ python3 }:
let
  python = (python3.override {
    self = python;
    readline = null;
    ncurses = null;
    gdbm = null;
    x11Support = false;
    stripConfig = true;
    stripIdlelib = true;
    stripTests = true;
    stripTkinter = true;
    rebuildBytecode = false;
    stripBytecode = true;
  }).overrideAttrs (old: {
    # The recipe's rebuildBytecode command, for the default level only, over lib/ (the
    # recipe runs it before it writes share/gdb/libpython.py, which stays uncompiled).
    # SOURCE_DATE_EPOCH is set by stdenv: compileall writes checked-hash (reproducible) pycs.
    postInstall = (old.postInstall or "") + ''
      find $out/lib -name "*.py" | $out/bin/python3 -m compileall -q -f -x "lib2to3" -i -
    '';
  });
in
python
