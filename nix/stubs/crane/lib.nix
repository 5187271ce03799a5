# Stand-in for crane's library (`crane.mkLib pkgs`), evaluation only: the functions the
# SOFATHEK flake calls, each rejecting argument names the real one would not use.
#
# crane functions pass unknown arguments through to stdenv.mkDerivation, so the accepted
# set is: the function's own arguments + mkCargoDerivation's + mkDerivation's (the
# nixpkgs stub's list). Sources (crane, stored copy 2b2b564e, the closest to the pinned
# b8d87f76 that the index holds): lib/default.nix, lib/mkCargoDerivation.nix,
# lib/buildDepsOnly.nix, lib/buildPackage.nix, lib/cargoClippy.nix, lib/cargoFmt.nix,
# lib/taploFmt.nix, lib/cargoNextest.nix, lib/cargoAudit.nix, lib/cargoDeny.nix,
# lib/devShell.nix, lib/crateNameFromCargoToml.nix, lib/vendorCargoDeps.nix,
# lib/fileset/{cargoTomlAndLock,rust,toml,commonCargoSources}.nix.
{ pkgs }:
let
  inherit (pkgs) lib;
  inherit (pkgs.__stub) mkDrv checkDrvAttrs;
  inherit (builtins) removeAttrs;

  # lib/mkCargoDerivation.nix (+ vendorCargoDeps / configureCargoCommonVars knobs).
  cargoDerivationArgs = [
    "cargoArtifacts"
    "buildPhaseCargoCommand"
    "checkPhaseCargoCommand"
    "installPhaseCommand"
    "cargoLock"
    "cargoLockContents"
    "cargoLockParsed"
    "pnameSuffix"
    "outputHashes"
    "stdenv"
    "doInstallCargoArtifacts"
    "cargoVendorDir"
    "noCrossToolchainEnv"
    "cargoToml"
    "cargoTomlContents"
    "overrideVendorCargoPackage"
    "overrideVendorGitCheckout"
    "installCargoArtifactsMode"
    "doNotLinkInheritedArtifacts"
    "doNotRemoveReferencesToVendorDir"
    "doNotRemoveReferencesToRustToolchain"
    "doNotPostBuildInstallCargoBinaries"
  ];

  fnArgs = {
    buildDepsOnly = [ "cargoBuildCommand" "cargoCheckCommand" "cargoCheckExtraArgs" "cargoExtraArgs" "cargoTestCommand" "cargoTestExtraArgs" "dummySrc" ];
    buildPackage = [ "cargoBuildCommand" "cargoExtraArgs" "cargoTestCommand" "cargoTestExtraArgs" ];
    cargoClippy = [ "cargoClippyExtraArgs" "cargoExtraArgs" ];
    cargoFmt = [ "cargoExtraArgs" "rustFmtExtraArgs" ];
    taploFmt = [ "taploExtraArgs" ];
    cargoNextest = [ "cargoExtraArgs" "cargoLlvmCovExtraArgs" "cargoNextestExtraArgs" "cargoNextestPartitionsExtraArgs" "partitions" "partitionType" "withLlvmCov" ];
    cargoAudit = [ "advisory-db" "cargoAuditExtraArgs" ];
    cargoDeny = [ "cargoDenyExtraArgs" "cargoDenyChecks" "cargoExtraArgs" ];
  };

  check = fname: args: checkDrvAttrs "crane.${fname}" (fnArgs.${fname} ++ cargoDerivationArgs) args;

  # lib/crateNameFromCargoToml.nix
  crateNameFromCargoToml = args:
    let
      cargoToml = args.cargoToml or (if args ? src then args.src + "/Cargo.toml"
      else throw "crane.crateNameFromCargoToml: needs `src`, `cargoToml` or `cargoTomlContents`");
      toml = builtins.fromTOML (args.cargoTomlContents or (builtins.readFile cargoToml));
      # lib/internalCrateNameFromCargoToml.nix: a `{ workspace = true; }` value is skipped and
      # `workspace.package.version` used instead.
      orElse = fallback: values:
        let strings = builtins.filter builtins.isString values; in
        if strings == [ ] then fallback else builtins.head strings;
    in
    {
      pname = orElse "cargo-package" [ (toml.package.metadata.crane.name or null) (toml.package.name or null) (toml.workspace.metadata.crane.name or null) ];
      version = orElse "0.0.1" [ (toml.package.version or null) (toml.workspace.package.version or null) ];
    };

  mkCargoDerivation = fname: args:
    let
      a = check fname args;
      crate = crateNameFromCargoToml a;
    in
    if !(a ? src) then throw "crane.${fname}: `src` is required"
    else
      mkDrv {
        name = "${a.pname or crate.pname}${a.pnameSuffix or ""}-${a.version or crate.version}";
        env = removeAttrs a [ "meta" "passthru" "env" "stdenv" ] // (a.env or { });
        meta = a.meta or { };
        passthru = a.passthru or { };
      };

  requireArtifacts = fname: args:
    if args ? cargoArtifacts then args
    else throw "crane.${fname}: `cargoArtifacts` is required (a formal without default)";

  suffixed = suffix: fname: args: mkCargoDerivation fname ({ pnameSuffix = suffix; } // args);

  fileset = {
    cargoTomlAndLock = path: lib.fileset.fileFilter (file: builtins.elem file.name [ "Cargo.toml" "Cargo.lock" ]) path;
    rust = path: lib.fileset.fileFilter (file: file.hasExt "rs") path;
    toml = path: lib.fileset.fileFilter (file: file.hasExt "toml") path;
    commonCargoSources = path: lib.fileset.unions [
      (fileset.cargoTomlAndLock path)
      (fileset.rust path)
      (fileset.toml path)
    ];
  };
in
{
  inherit crateNameFromCargoToml fileset;

  buildDepsOnly = args: suffixed "-deps" "buildDepsOnly" args;

  buildPackage = args:
    mkCargoDerivation "buildPackage" (args // {
      cargoArtifacts = args.cargoArtifacts or (suffixed "-deps" "buildDepsOnly" (removeAttrs args [ "meta" ]));
    });

  cargoClippy = args: suffixed "-clippy" "cargoClippy" (requireArtifacts "cargoClippy" args);

  cargoFmt = args: suffixed "-fmt" "cargoFmt" args;

  taploFmt = args: suffixed "-tomlfmt" "taploFmt" args;

  cargoNextest = args:
    let
      a = requireArtifacts "cargoNextest" args;
      partitions = a.partitions or 1;
    in
    if partitions < 1 then throw "crane.cargoNextest: partitions must be at least 1"
    else if !(builtins.elem (a.partitionType or "count") [ "count" "hash" ]) then throw "crane.cargoNextest: partitionType must be count or hash"
    else suffixed "-nextest" "cargoNextest" a;

  cargoAudit = args:
    if !(args ? advisory-db) then throw "crane.cargoAudit: `advisory-db` is required"
    else suffixed "-audit" "cargoAudit" args;

  cargoDeny = args: suffixed "-deny" "cargoDeny" args;

  # lib/devShell.nix: mkShell with checks' inputs and the toolchain.
  devShell = args:
    let
      a = checkDrvAttrs "crane.devShell" [ "checks" "inputsFrom" "packages" ] args;
    in
    pkgs.mkShell (removeAttrs a [ "checks" ] // {
      inputsFrom = builtins.attrValues (a.checks or { }) ++ (a.inputsFrom or [ ]);
      packages = [ pkgs.rustc pkgs.cargo pkgs.clippy pkgs.rustfmt ] ++ (a.packages or [ ]);
    });
}
