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
craneLib.devShell {
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
  ];

  RUST_BACKTRACE = "1";
  SOFATHEK_ENV = "development";

  shellHook = ''
    echo "SOFATHEK dev shell (${stdenv.hostPlatform.system}): run scripts/dev for the hot-reload loop"
  '';
}
