# The workspace, built with crane (lib/buildDepsOnly.nix, lib/buildPackage.nix in the crane
# sources): third-party dependencies of every workspace crate are compiled once in
# `cargoArtifacts` (mkDummySrc stubs each member's sources) and reused by the package and by
# every check, so a change to Rust code rebuilds only the workspace's own crates. The package
# builds the root package (`sofathek`, the one binary the image ships); the checks pass
# `--workspace`.
{ lib
, stdenv
, libiconv
, makeBinaryWrapper
, runCommand
, craneLib
, ffmpeg-min
, yt-dlp
, web
}:
let
  inherit (lib) fileset;

  # Exactly what cargo and the tests read. crane's fileset.commonCargoSources is
  # Cargo.toml/Cargo.lock + *.rs + *.toml (crane lib/fileset/commonCargoSources.nix);
  # the non-Rust files the build needs are added by name.
  rustFiles = fileset.unions [
    ../Cargo.toml
    ../Cargo.lock
    # The workspace: the `sofathek` binary crate (src/) and its layers (crates/*, each with
    # its Cargo.toml, src/ and tests/).
    (craneLib.fileset.commonCargoSources ../src)
    (craneLib.fileset.commonCargoSources ../crates)
    # SQL migrations (include_str!) and recorded tool-output samples used by unit tests.
    (fileset.fileFilter (file: lib.any file.hasExt [ "sql" "json" "jsonl" "txt" ]) ../crates)
    # Integration tests: only their Rust sources (tests/it/*.rs, tests/it/common, tests/it/support).
    # tests/e2e (*.mjs), tests/container (Python, shell) are not cargo's: editing them must
    # not rebuild the crate.
    (fileset.fileFilter (file: file.hasExt "rs") ../tests)
    (fileset.maybeMissing ../benches)
    # Examples (the egress guard run alone for scripts/bench-egress): clippy's --all-targets.
    (fileset.maybeMissing ../examples)
    (fileset.maybeMissing ../build.rs)
    (fileset.maybeMissing ../.config/nextest.toml)
    (fileset.maybeMissing ../clippy.toml)
    (fileset.maybeMissing ../rustfmt.toml)
    (fileset.maybeMissing ../.rustfmt.toml)
    (fileset.maybeMissing ../taplo.toml)
    (fileset.maybeMissing ../.taplo.toml)
    (fileset.maybeMissing ../deny.toml)
  ];

  src = fileset.toSource {
    root = ../.;
    fileset = rustFiles;
  };

  # The integration tests may also read the frontend sources (templates); only the test
  # check gets them, so a frontend edit does not rebuild the package.
  testSrc = fileset.toSource {
    root = ../.;
    fileset = fileset.unions [ rustFiles (fileset.maybeMissing ../frontend) ];
  };

  inherit (craneLib.crateNameFromCargoToml { cargoToml = ../Cargo.toml; }) version;

  commonArgs = {
    inherit src;
    strictDeps = true;
    # A stripped binary in the image (Cargo.toml's release profile strips only debug info;
    # stdenv's fixup strips debug sections too, not the symbol table). Set for the deps
    # build as well, so that cargoArtifacts' fingerprints match.
    CARGO_PROFILE_RELEASE_STRIP = "symbols";
    buildInputs = lib.optionals stdenv.hostPlatform.isDarwin [ libiconv ];
  };

  cargoArtifacts = craneLib.buildDepsOnly commonArgs;

  meta = {
    description = "Self-hosted family video library";
    homepage = "https://github.com/sofathek/sofathek";
    license = lib.licenses.mit;
    mainProgram = "sofathek";
    platforms = lib.platforms.linux ++ lib.platforms.darwin;
  };

  # The bare binary: what the image ships (its PATH and web dir come from the image
  # config). crane's removeReferencesToRustToolchainHook and
  # removeReferencesToVendoredSourcesHook keep rustc and the vendored crates out of its
  # runtime closure.
  sofathek-unwrapped = craneLib.buildPackage (commonArgs // {
    inherit cargoArtifacts meta;
    # The test suite needs ffmpeg, ffprobe and yt-dlp: it runs in checks.sofathek-nextest.
    doCheck = false;
  });

  # `nix run`: the server with the pinned ffmpeg-min and yt-dlp first on PATH and the
  # built frontend as the default web dir. A compiled wrapper (no shell needed).
  sofathek = runCommand "sofathek-${version}"
    {
      nativeBuildInputs = [ makeBinaryWrapper ];
      inherit meta;
      passthru.unwrapped = sofathek-unwrapped;
    } ''
    makeBinaryWrapper ${lib.getExe sofathek-unwrapped} $out/bin/sofathek \
      --prefix PATH : ${lib.makeBinPath [ ffmpeg-min yt-dlp ]} \
      --set-default SOFATHEK_WEB_DIR ${web}
  '';
in
{
  inherit src testSrc version commonArgs cargoArtifacts sofathek sofathek-unwrapped;
}
