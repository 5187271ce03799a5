# `nix flake check`: the package, Rust lints and tests (crane), the frontend, Nix
# formatting and dead code, the compose files, and (Linux) the image contract and the
# image's size budget (nix/size-budget.json).
# Check names follow docs/style.md: sofathek-{clippy,fmt,nextest,audit,deny,toml-fmt}.
{ lib
, stdenv
, runCommand
, closureInfo
, docker-compose
, deadnix
, nixpkgs-fmt
, jq
, python3
, craneLib
, advisory-db
, commonArgs
, cargoArtifacts
, src
, testSrc
, sofathek
, ffmpeg-min
, yt-dlp
, web
, images
, sizeBudget
}:
let
  inherit (lib) fileset;

  tomlSrc = fileset.toSource {
    root = ../.;
    fileset = fileset.unions [
      ../Cargo.toml
      (fileset.fileFilter (file: file.hasExt "toml") ../src)
      (fileset.fileFilter (file: file.hasExt "toml") ../crates)
      (fileset.maybeMissing ../deny.toml)
      (fileset.maybeMissing ../clippy.toml)
      (fileset.maybeMissing ../rustfmt.toml)
      (fileset.maybeMissing ../.rustfmt.toml)
      (fileset.maybeMissing ../taplo.toml)
      (fileset.maybeMissing ../.taplo.toml)
      (fileset.maybeMissing ../.config/nextest.toml)
    ];
  };

  nixSrc = fileset.toSource {
    root = ../.;
    fileset = fileset.unions [
      ../flake.nix
      (fileset.fileFilter (file: file.hasExt "nix") ../nix)
    ];
  };

  composeSrc = fileset.toSource {
    root = ../.;
    fileset = fileset.unions [ ../compose.yml ../compose.dev.yml ../env/staging.env ];
  };

  rustChecks = {
    # The package itself (the wrapped binary pulls in the crate, ffmpeg-min and yt-dlp).
    inherit sofathek;

    sofathek-clippy = craneLib.cargoClippy (commonArgs // {
      inherit cargoArtifacts;
      cargoClippyExtraArgs = "--workspace --all-targets -- --deny warnings";
    });

    sofathek-fmt = craneLib.cargoFmt { inherit src; };

    # The project's TOML style (what Cargo.toml and clippy.toml use): 4-space indent,
    # arrays kept on one line up to 160 columns.
    sofathek-toml-fmt = craneLib.taploFmt {
      src = tomlSrc;
      taploExtraArgs = "--option column_width=160 --option 'indent_string=    '";
    };

    # RustSec advisories from the pinned advisory-db input (no network in the sandbox).
    sofathek-audit = craneLib.cargoAudit { inherit src advisory-db; };

    # bans, licenses and sources against deny.toml (crane's default cargoDenyChecks).
    sofathek-deny = craneLib.cargoDeny { inherit src; };

    # The whole test suite, integration tests included, against the pinned tools: they
    # start local HTTP servers on 127.0.0.1 and need ffmpeg, ffprobe and yt-dlp on PATH.
    sofathek-nextest = craneLib.cargoNextest (commonArgs // {
      inherit cargoArtifacts;
      src = testSrc;
      partitions = 1;
      partitionType = "count";
      # Every crate of the workspace: the layers' own tests and the integration tests.
      cargoNextestExtraArgs = "--workspace --no-tests=warn";
      preCheck = ''
        export PATH=${lib.makeBinPath [ ffmpeg-min yt-dlp ]}:$PATH
        export HOME=$TMPDIR
        export SOFATHEK_WEB_DIR=${web}
        ffmpeg -hide_banner -version | head -n 1
        yt-dlp --version
      '';
      # Local HTTP servers in the macOS sandbox.
      __darwinAllowLocalNetworking = true;
    });
  };

  otherChecks = {
    # build.sh must produce templates/, assets/ and a valid manifest.json.
    frontend = runCommand "sofathek-frontend-check" { nativeBuildInputs = [ jq ]; } ''
      test -d ${web}/templates
      test -d ${web}/assets
      jq -e . ${web}/manifest.json > /dev/null
      touch $out
    '';

    nix-lint = runCommand "sofathek-nix-lint" { nativeBuildInputs = [ nixpkgs-fmt deadnix ]; } ''
      cd ${nixSrc}
      nixpkgs-fmt --check $(find . -name '*.nix' | sort)
      deadnix --fail $(find . -name '*.nix' | sort)
      touch $out
    '';

    # nixpkgs' Compose v2 parses and validates (unknown keys, interpolation, undefined
    # volumes or secrets) without a Docker daemon.
    compose = runCommand "sofathek-compose-config" { nativeBuildInputs = [ docker-compose ]; } ''
      export HOME=$TMPDIR DOCKER_CONFIG=$TMPDIR/docker
      cp -r ${composeSrc} ./src && chmod -R u+w ./src && cd ./src
      # Development works on a fresh checkout: no secrets file, no secret in the result.
      docker-compose -f compose.yml -f compose.dev.yml config --format json > dev.json
      if grep -q -e admin_password -e SOFATHEK_ADMIN_PASSWORD_FILE dev.json; then
        echo "compose.dev.yml still refers to the production admin-password secret"; exit 1
      fi
      mkdir -p secrets && touch secrets/admin_password
      docker-compose -f compose.yml config --quiet
      docker-compose --env-file env/staging.env -f compose.yml config --quiet
      docker-compose -f compose.yml -f compose.dev.yml config --quiet
      touch $out
    '';
  };

  imageChecks = lib.optionalAttrs stdenv.hostPlatform.isLinux {
    # The prod image's config must be exactly what nix/contract.json describes.
    image-contract = runCommand "sofathek-image-contract"
      {
        nativeBuildInputs = [ python3 ];
        config = builtins.toJSON images.image-prod.imageConfig;
        passAsFile = [ "config" ];
      } ''
      python3 ${../scripts/check-contract} --contract ${./contract.json} --oci-config "$configPath"
      touch $out
    '';

    # The size gate: image-prod's runtime closure (what its layers hold, per store path)
    # must stay within nix/size-budget.json. closureInfo (pkgs/build-support/closure-info.nix)
    # writes the summed NAR sizes to total-nar-size; the per-path listing (du of each path
    # of the closure, all present in this sandbox as inputs) says what grew.
    image-size =
      let
        closure = closureInfo { rootPaths = images.image-prod.imageContents; };
        limit = toString sizeBudget.limitBytes;
      in
      runCommand "sofathek-image-size" { } ''
        total=$(cat ${closure}/total-nar-size)
        echo "image-prod closure, largest store paths (du, bytes):"
        xargs du -sb < ${closure}/store-paths | sort -rn | head -n 40
        echo "image-prod closure: $total bytes in $(wc -l < ${closure}/store-paths) store paths (budget ${limit} bytes)"
        if [ "$total" -gt ${limit} ]; then
          echo "FAIL: image-prod's closure exceeds nix/size-budget.json (limitBytes ${limit})"
          exit 1
        fi
        touch $out
      '';
  };
in
{
  # Wrapped in an attribute: callPackage adds `override`/`overrideDerivation` to the
  # attribute set a file returns, and those must not end up in `checks`.
  checks = rustChecks // otherChecks // imageChecks;
}
