# Per-system scope: wires the files under nix/ together and returns this system's outputs.
# One file per concern: ffmpeg-min.nix, python.nix, yt-dlp.nix, frontend.nix, package.nix (crane),
# checks.nix, images.nix, supply-chain.nix, devshell.nix.
{ self, pkgs, crane, advisory-db }:
let
  inherit (pkgs) lib;
  inherit (pkgs.stdenv.hostPlatform) isLinux;

  contract = builtins.fromJSON (builtins.readFile ./contract.json);
  ytDlpPin = builtins.fromJSON (builtins.readFile ./yt-dlp.json);

  # crane.mkLib is `pkgs: import ./default.nix { inherit pkgs; }` (crane flake.nix).
  craneLib = crane.mkLib pkgs;

  sizeBudget = builtins.fromJSON (builtins.readFile ./size-budget.json);

  ffmpeg-min = pkgs.callPackage ./ffmpeg-min.nix { };
  python = pkgs.callPackage ./python.nix { };
  yt-dlp = pkgs.callPackage ./yt-dlp.nix { inherit ffmpeg-min python; pin = ytDlpPin; };
  web = pkgs.callPackage ./frontend.nix { };

  rust = pkgs.callPackage ./package.nix { inherit craneLib ffmpeg-min yt-dlp web; };

  images = lib.optionalAttrs isLinux (pkgs.callPackage ./images.nix {
    inherit self contract ffmpeg-min yt-dlp web;
    inherit (rust) sofathek-unwrapped version;
  });

  supplyChain = lib.optionalAttrs isLinux (pkgs.callPackage ./supply-chain.nix {
    inherit (images) image-prod;
  });

  inherit (pkgs.callPackage ./checks.nix {
    inherit craneLib advisory-db ffmpeg-min yt-dlp web images sizeBudget;
    inherit (rust) commonArgs cargoArtifacts src testSrc sofathek;
  }) checks;

  app = drv: description: {
    type = "app";
    program = lib.getExe drv;
    meta.description = description;
  };
in
{
  packages = {
    default = rust.sofathek;
    inherit (rust) sofathek sofathek-unwrapped;
    inherit ffmpeg-min yt-dlp web;
  }
  // lib.optionalAttrs isLinux {
    inherit (images) image-prod image-dev image-prod-stream image-dev-stream;
    inherit (supplyChain) sbom;
  };

  inherit checks;

  apps = {
    default = app rust.sofathek "Run the SOFATHEK server (127.0.0.1:3001, data in ./data)";
  }
  // lib.optionalAttrs isLinux {
    sbom = app supplyChain.sbom "Write CycloneDX and SPDX SBOMs of image-prod";
    vuln-report = app supplyChain.vuln-report "Scan the image-prod closure with vulnix; fails on high/critical";
  };

  devShells.default = pkgs.callPackage ./devshell.nix {
    inherit craneLib checks ffmpeg-min yt-dlp;
  };

  formatter = pkgs.nixpkgs-fmt;
}
