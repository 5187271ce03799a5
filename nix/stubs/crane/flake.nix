{
  description = "Offline stand-in for crane (evaluation only; see nix/stubs/README.md)";

  # Like crane's own flake.nix: no inputs, `mkLib = pkgs: import ./default.nix { inherit pkgs; }`.
  outputs = _: {
    mkLib = pkgs: import ./lib.nix { inherit pkgs; };
  };
}
