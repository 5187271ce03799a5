# OCI images (Linux only), built with dockerTools (pkgs/build-support/docker/default.nix;
# arguments checked against doc/build-helpers/images/dockertools.section.md).
#
# buildLayeredImage, not buildImage: no VM and no root needed, one layer per store path
# ordered by popularity, so the dependency closure (glibc, python, ffmpeg-min, ...) sits
# in stable lower layers and a Rust-only change re-ships just the crate's layer and the
# small customisation layer on top. buildLayeredImage writes a gzipped docker-archive
# (`docker load < result`, the operator workflow of docs/product.md); the `*-stream`
# variants (streamLayeredImage, same arguments) write nothing big to the store and
# stream the archive instead (`./result | docker load`).
#
# image-prod implements nix/contract.json exactly; checks.image-contract and
# scripts/check-nix compare the config below with it.
{ lib
, stdenv
, dockerTools
, runCommand
, tini
, tzdata
, bashInteractive
, coreutils
, findutils
, gnugrep
, gnused
, gnutar
, gzip
, gawk
, diffutils
, less
, procps
, git
, rustc
, cargo
, clippy
, rustfmt
, cargo-nextest
, watchexec
, systemfd
, mold
, esbuild
, brotli
, sqlite
, gdb
, self
, contract
, sofathek-unwrapped
, version
, ffmpeg-min
, yt-dlp
, web
}:
let
  cargoToml = builtins.fromTOML (builtins.readFile ../Cargo.toml);

  nanoseconds = seconds: seconds * 1000000000;
  uid = toString contract.user.uid;
  gid = toString contract.user.gid;
  owner = "${uid}:${gid}";
  envList = attrs: lib.mapAttrsToList (name: value: "${name}=${value}") attrs;

  # Reproducible: the commit time of the flake source, never the build time.
  created =
    let
      d = self.lastModifiedDate or "19700101000001";
      part = start: len: builtins.substring start len d;
    in
    "${part 0 4}-${part 4 2}-${part 6 2}T${part 8 2}:${part 10 2}:${part 12 2}Z";

  labels = {
    "org.opencontainers.image.title" = cargoToml.package.name;
    "org.opencontainers.image.description" = cargoToml.package.description;
    "org.opencontainers.image.source" = cargoToml.package.repository;
    "org.opencontainers.image.revision" = self.rev or self.dirtyRev or "unknown";
    "org.opencontainers.image.version" = version;
    "org.opencontainers.image.licenses" = cargoToml.workspace.package.license;
    "org.opencontainers.image.created" = created;
  };

  # /etc/passwd and /etc/group with the service user (pkgs/by-name/fa/fakeNss/package.nix).
  nss = { home, shell }: dockerTools.fakeNss.override {
    extraPasswdLines = [ "${contract.user.name}:x:${uid}:${gid}:SOFATHEK:${home}:${shell}" ];
    extraGroupLines = [ "${contract.user.name}:x:${gid}:" ];
  };

  # The prod root file system: exactly the programs the service runs, nothing else on
  # PATH (no shell, no package manager). Symlinks into the store; the store paths
  # themselves land in the lower layers.
  prodRoot = runCommand "sofathek-image-root" { } ''
    mkdir -p $out/bin $out/app $out/share
    ln -s ${lib.getExe sofathek-unwrapped} $out/bin/sofathek
    ln -s ${lib.getExe' ffmpeg-min "ffmpeg"} $out/bin/ffmpeg
    ln -s ${lib.getExe' ffmpeg-min "ffprobe"} $out/bin/ffprobe
    ln -s ${lib.getExe yt-dlp} $out/bin/yt-dlp
    ln -s ${lib.getExe tini} $out/bin/tini
    ln -s ${web} $out${contract.webDir}
    ln -s ${tzdata}/share/zoneinfo $out/share/zoneinfo
  '';

  healthcheck = {
    Test = [ "CMD" ] ++ contract.healthcheck.command;
    Interval = nanoseconds contract.healthcheck.intervalSeconds;
    Timeout = nanoseconds contract.healthcheck.timeoutSeconds;
    StartPeriod = nanoseconds contract.healthcheck.startPeriodSeconds;
    Retries = contract.healthcheck.retries;
  };

  prodConfig = {
    User = owner;
    WorkingDir = contract.workingDir;
    Entrypoint = contract.entrypoint;
    Cmd = contract.cmd;
    Env = envList contract.env;
    ExposedPorts."${toString contract.port}/tcp" = { };
    Volumes.${contract.dataPath} = { };
    Healthcheck = healthcheck;
    StopSignal = "SIGTERM";
    Labels = labels;
  };

  prodArgs = {
    name = "sofathek";
    tag = "latest";
    contents = [
      prodRoot
      dockerTools.caCertificates
      (nss { home = contract.dataPath; shell = "/sbin/nologin"; })
    ];
    config = prodConfig;
    inherit created;
    # Runs in the customisation layer under fakeroot: ownership and modes survive.
    fakeRootCommands = ''
      mkdir -p .${contract.dataPath} ./tmp
      chown ${owner} .${contract.dataPath}
      chmod 0750 .${contract.dataPath}
      chmod 1777 ./tmp
    '';
  };

  devHome = "/home/${contract.user.name}";

  devConfig = {
    User = owner;
    WorkingDir = contract.dev.workingDir;
    # -g: signals go to tini's child's process group (watchexec, cargo, the server).
    Entrypoint = [ "/bin/tini" "-g" "--" ];
    Cmd = [ "bash" "scripts/dev" ];
    Env = envList {
      PATH = "/bin";
      HOME = devHome;
      CARGO_HOME = "${devHome}/.cargo";
      CARGO_TARGET_DIR = "${contract.dev.workingDir}/target";
      SSL_CERT_FILE = "/etc/ssl/certs/ca-bundle.crt";
      SOFATHEK_BIND = "0.0.0.0:${toString contract.port}";
      SOFATHEK_DATA_PATH = contract.dataPath;
      SOFATHEK_ENV = "development";
      SOFATHEK_WEB_DIR = contract.dev.webDir;
      LOG_LEVEL = "debug";
      RUST_BACKTRACE = "1";
      RUSTFLAGS = "-C link-arg=-fuse-ld=mold";
    };
    ExposedPorts = {
      "${toString contract.port}/tcp" = { };
      # gdbserver (from gdb) for attaching a debugger: see docs/DEPLOYMENT.md.
      "2345/tcp" = { };
    };
    Volumes.${contract.dataPath} = { };
    Labels = labels // { "org.opencontainers.image.title" = "${cargoToml.package.name}-dev"; };
  };

  devArgs = {
    name = "sofathek";
    tag = "dev";
    contents = [
      # Toolchain and the watcher loop (scripts/dev).
      rustc
      cargo
      clippy
      rustfmt
      cargo-nextest
      stdenv.cc
      watchexec
      systemfd
      # The dev loop's linker (RUSTFLAGS below; see nix/devshell.nix for the measurement).
      mold
      # Frontend build (frontend/build.sh).
      esbuild
      brotli
      gzip
      # The service's tools.
      (lib.getBin ffmpeg-min)
      yt-dlp
      sqlite
      # A usable shell.
      bashInteractive
      coreutils
      findutils
      gnugrep
      gnused
      gnutar
      gawk
      diffutils
      less
      procps
      git
      gdb
      tini
      dockerTools.caCertificates
      dockerTools.usrBinEnv
      dockerTools.binSh
      (nss { home = devHome; shell = "/bin/bash"; })
    ];
    config = devConfig;
    inherit created;
    fakeRootCommands = ''
      mkdir -p .${devHome}/.cargo/registry .${devHome}/.cargo/git \
        .${contract.dev.workingDir}/target .${contract.dataPath} ./tmp
      chown -R ${owner} .${devHome} .${contract.dev.workingDir}
      chmod 1777 ./tmp
    '';
  };

  # The config and contents are exposed next to the image so that checks can compare the
  # config with the contract and the SBOM can walk the closure (buildLayeredImage does
  # not pass `passthru` through to its tarball).
  mkImage = builder: args: builder args // {
    imageConfig = args.config;
    imageContents = args.contents;
  };
in
{
  image-prod = mkImage dockerTools.buildLayeredImage prodArgs;
  image-dev = mkImage dockerTools.buildLayeredImage devArgs;
  image-prod-stream = mkImage dockerTools.streamLayeredImage prodArgs;
  image-dev-stream = mkImage dockerTools.streamLayeredImage devArgs;
}
