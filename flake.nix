{
  description = "SOFATHEK: self-hosted family video library (Rust service, minimal OCI images)";

  # Lock entries come verbatim from shared/pins/nix-inputs.json (these machines cannot
  # run `nix flake lock`). crane has had no inputs since v0.19: no `follows` needed.
  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";
    crane.url = "github:ipetkov/crane";
    advisory-db = {
      url = "github:rustsec/advisory-db";
      flake = false;
    };
  };

  outputs = { self, nixpkgs, crane, advisory-db }:
    let
      inherit (nixpkgs) lib;
      # Images, SBOM and vulnerability report only make sense for Linux; the dev shell,
      # the package and `nix run` also work on macOS.
      linuxSystems = [ "x86_64-linux" "aarch64-linux" ];
      systems = linuxSystems ++ [ "aarch64-darwin" "x86_64-darwin" ];
      scope = lib.genAttrs systems (system: import ./nix {
        inherit self crane advisory-db;
        pkgs = nixpkgs.legacyPackages.${system};
      });
      forAll = output: lib.genAttrs systems (system: scope.${system}.${output});
    in
    {
      packages = forAll "packages";
      checks = forAll "checks";
      apps = forAll "apps";
      devShells = forAll "devShells";
      formatter = forAll "formatter";
    };
}
