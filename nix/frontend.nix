# The built frontend (what SOFATHEK_WEB_DIR points at): frontend/build.sh run with
# nixpkgs' esbuild, brotli and gzip only. No npm download, so no npm hash and no
# registry URLs anywhere in the build.
{ lib, stdenvNoCC, esbuild, brotli, gzip }:
let
  cargoToml = builtins.fromTOML (builtins.readFile ../Cargo.toml);
in
stdenvNoCC.mkDerivation {
  pname = "sofathek-web";
  # The workspace's version (every crate inherits it: Cargo.toml [workspace.package]).
  inherit (cargoToml.workspace.package) version;

  # frontend/ without its build output, node tooling and node tests.
  src = lib.fileset.toSource {
    root = ../frontend;
    fileset = lib.fileset.difference ../frontend (lib.fileset.unions [
      (lib.fileset.maybeMissing ../frontend/dist)
      (lib.fileset.maybeMissing ../frontend/node_modules)
      (lib.fileset.maybeMissing ../frontend/tests)
    ]);
  };

  nativeBuildInputs = [ esbuild brotli gzip ];
  strictDeps = true;

  dontConfigure = true;
  dontBuild = true;

  # build.sh OUT_DIR writes OUT_DIR/{templates,assets,manifest.json}.
  installPhase = ''
    runHook preInstall
    bash ./build.sh "$out"
    test -f "$out/manifest.json"
    runHook postInstall
  '';

  meta.description = "SOFATHEK web frontend (templates and hashed, pre-compressed assets)";
}
