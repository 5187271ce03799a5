# `nix develop`: everything the checks build with (crane's devShell adds the inputs of
# every check and rustc, cargo, clippy, rustfmt), plus the tools of the hot-reload loop.
# The loop itself is one command: scripts/dev (see docs/DEPLOYMENT.md).
{ lib
, stdenv
, cargo-nextest
, cargo-deny
, cargo-audit
, taplo
, rust-analyzer
, watchexec
, systemfd
, mold
, esbuild
, brotli
, gzip
, sqlite
, jq
, nixpkgs-fmt
, deadnix
, docker-compose
, craneLib
, checks
, ffmpeg-min
, yt-dlp
}:
craneLib.devShell ({
  # crane lib/devShell.nix: inputsFrom = attrValues checks.
  inherit checks;

  packages = [
    cargo-nextest
    cargo-deny
    cargo-audit
    taplo
    rust-analyzer
    watchexec
    systemfd
    esbuild
    brotli
    gzip
    (lib.getBin ffmpeg-min)
    yt-dlp
    sqlite
    jq
    nixpkgs-fmt
    deadnix
    docker-compose
  ]
  # The dev loop's linker (RUSTFLAGS below).
  ++ lib.optional stdenv.hostPlatform.isLinux mold;

  RUST_BACKTRACE = "1";
  SOFATHEK_ENV = "development";

  shellHook = ''
    echo "SOFATHEK dev shell (${stdenv.hostPlatform.system}): run scripts/dev for the hot-reload loop"
  '';
} // lib.optionalAttrs stdenv.hostPlatform.isLinux {
  # mold links the dev binary: scripts/bench-reload measured a handler edit at 2.8 s median
  # with mold and 2.8 s with lld against 3.4 s with GNU ld (and full debug info). In the
  # pinned nixpkgs `mold` is the wrapped linker (pkgs/top-level/aliases.nix: `mold-wrapped`
  # was renamed to `mold`), so gcc's -fuse-ld=mold finds ld.mold with the Nix library paths.
  RUSTFLAGS = "-C link-arg=-fuse-ld=mold";

})
