# Pinned yt-dlp, built from the PyPI sdist stated in nix/yt-dlp.json.
#
# Starts from nixpkgs' pkgs/by-name/yt/yt-dlp/package.nix (override arguments checked
# against the stored copy of the 2026.07.04 recipe: ffmpeg-headless, jsRuntime,
# javascriptSupport, ffmpegSupport, atomicparsleySupport, rtmpSupport, withSecretStorage)
# and changes what SOFATHEK does not want:
#   - ffmpeg-min instead of ffmpeg-headless (the recipe puts it on yt-dlp's PATH);
#   - no atomicparsley, rtmpdump, secretstorage; curl-cffi is dropped from
#     `dependencies` (the recipe always adds it; it only serves browser impersonation);
#   - yt-dlp-ejs pinned to the version the pinned yt-dlp requires, from its wheel (the
#     sdist holds TypeScript sources that need a pnpm build);
#   - QuickJS-ng as the JavaScript runtime for YouTube's challenges instead of Deno:
#     ~2 MB instead of ~100 MB, at the price of slower challenge solving
#     (docs/DEPLOYMENT.md, "JavaScript runtime"). yt-dlp enables only Deno by default,
#     so the wrapper adds `--js-runtimes=quickjs`, and postPatch points yt-dlp's QuickJS
#     lookup at this store path (as the recipe does for its own jsRuntime);
#   - postPatch is replaced as a whole: the recipe's `--replace-fail "UPDATE_HINT = None"`
#     matches the GitHub tree but not the PyPI sdist, whose yt_dlp/version.py carries
#     pip's update hint (checked in yt_dlp-2026.10.26.tar.gz, sha256 equal to the pin).
{ lib
, yt-dlp
, python3Packages
, fetchPypi
, quickjs-ng
, ffmpeg-min
, pin
}:
let
  # pkgs/build-support/fetchpypi/default.nix: format = "wheel" builds the URL from
  # pname, version, dist, python, abi ("none") and platform ("any").
  yt-dlp-ejs = python3Packages.buildPythonPackage {
    pname = "yt-dlp-ejs";
    inherit (pin.ejs) version;
    format = "wheel";
    src = fetchPypi {
      pname = "yt_dlp_ejs";
      inherit (pin.ejs) version;
      format = "wheel";
      dist = "py3";
      python = "py3";
      hash = pin.ejs.wheelHash;
    };
    pythonImportsCheck = [ "yt_dlp_ejs" ];
    meta = {
      description = "External JavaScript for yt-dlp (challenge solvers), pinned for SOFATHEK";
      license = with lib.licenses; [ unlicense mit isc ];
    };
  };

  isEjs = drv: (drv.pname or "") == "yt-dlp-ejs";

  base = yt-dlp.override {
    ffmpeg-headless = ffmpeg-min;
    ffmpegSupport = true;
    javascriptSupport = true;
    jsRuntime = quickjs-ng;
    atomicparsleySupport = false;
    rtmpSupport = false;
    withSecretStorage = false;
  };
in
base.overridePythonAttrs (old: {
  inherit (pin) version;
  # The sdist contains devscripts/, which the recipe's preBuild/postBuild run.
  src = fetchPypi {
    pname = "yt_dlp";
    inherit (pin) version;
    hash = pin.sdistHash;
  };
  postPatch = ''
    substituteInPlace yt_dlp/version.py \
      --replace-fail "UPDATE_HINT = 'You installed yt-dlp with pip or using the wheel from PyPi; Use that to update'" \
        "UPDATE_HINT = 'This yt-dlp is pinned by SOFATHEK (nix/yt-dlp.json); update the pin there'"
    substituteInPlace yt_dlp/utils/_jsruntime.py \
      --replace-fail "path = _determine_runtime_path(self._path, '${quickjs-ng.meta.mainProgram}')" \
        "path = '${lib.getExe quickjs-ng}'"
  '';
  # Only the `default` extra (brotli, certifi, mutagen, pycryptodomex, requests, urllib3,
  # websockets, yt-dlp-ejs), with yt-dlp-ejs replaced by the pinned wheel.
  dependencies = builtins.filter (d: !isEjs d) old.optional-dependencies.default ++ [ yt-dlp-ejs ];
  # One token without spaces, so it survives both the array (__structuredAttrs) and the
  # word-split handling of makeWrapperArgs in wrapPythonPrograms.
  makeWrapperArgs = (old.makeWrapperArgs or [ ]) ++ [ "--add-flags" "--js-runtimes=quickjs" ];
  passthru = (old.passthru or { }) // {
    inherit yt-dlp-ejs;
    jsRuntime = quickjs-ng;
  };
})
