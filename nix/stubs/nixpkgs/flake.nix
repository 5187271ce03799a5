{
  description = "Offline stand-in for nixpkgs (evaluation only; see nix/stubs/README.md)";

  outputs = { self }: {
    lib = import ./lib.nix;
    legacyPackages = self.lib.genAttrs self.lib.platforms.all (system: import ./pkgs.nix {
      inherit system;
      inherit (self) lib;
    });
  };
}
