# Pinned yt-dlp, built from the PyPI sdist stated in nix/yt-dlp.json.
#
# Starts from nixpkgs' pkgs/by-name/yt/yt-dlp/package.nix (override arguments checked
# against the stored copy of the 2026.07.04 recipe: ffmpeg-headless, jsRuntime,
# javascriptSupport, ffmpegSupport, atomicparsleySupport, rtmpSupport, withSecretStorage,
# python3Packages) and changes what SOFATHEK does not want:
#   - built with nix/python.nix (no tkinter/idle/readline/ncurses/gdbm/tests, one bytecode
#     level) through `python3Packages = python.pkgs`;
#   - ffmpeg-min instead of ffmpeg-headless (the recipe puts it on yt-dlp's PATH);
#   - no atomicparsley, rtmpdump, secretstorage;
#   - only the Python dependencies SOFATHEK's use of yt-dlp needs (the recipe's
#     `dependencies` are replaced as a whole; nix/size-budget.md lists what each costs):
#       kept    yt-dlp-ejs   YouTube's signature/n challenges (with QuickJS-ng below);
#               websockets   formats delivered over WebSocket (some live/VOD sites);
#       dropped curl-cffi    browser impersonation only;
#               requests, urllib3 (+ idna, charset-normalizer, certifi)
#                            yt-dlp's own urllib request handler does the same job;
#               certifi      the image's CA bundle (SSL_CERT_FILE) is used instead;
#               pycryptodomex  yt_dlp/aes.py is the pure-Python fallback (AES-128 HLS);
#               brotli       only adds `br` to Accept-Encoding;
#               mutagen      only for --embed-thumbnail/--embed-metadata, never passed;
#   - bytecode at one level: python's `installer` (pypa-install-hook.sh) compiles levels
#     0 and 1 (installer's --compile-bytecode default); the -O (opt-1) copies are deleted,
#     nothing runs yt-dlp with -O;
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
, python
, fetchPypi
, quickjs-ng
, ffmpeg-min
, pin
}:
let
  python3Packages = python.pkgs;

  # Deletes the -O bytecode `installer` writes next to the plain one.
  oneBytecodeLevel = ''
    find $out -name '*.opt-1.pyc' -delete
  '';

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
    postInstall = oneBytecodeLevel;
    meta = {
      description = "External JavaScript for yt-dlp (challenge solvers), pinned for SOFATHEK";
      license = with lib.licenses; [ unlicense mit isc ];
    };
  };

  websockets = python3Packages.websockets.overridePythonAttrs (old: {
    postInstall = (old.postInstall or "") + oneBytecodeLevel;
  });

  base = yt-dlp.override {
    inherit python3Packages;
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
  # See the header: the two dependencies SOFATHEK needs, nothing else.
  dependencies = [ yt-dlp-ejs websockets ];
  postInstall = (old.postInstall or "") + oneBytecodeLevel;
  # One token without spaces, so it survives both the array (__structuredAttrs) and the
  # word-split handling of makeWrapperArgs in wrapPythonPrograms.
  makeWrapperArgs = (old.makeWrapperArgs or [ ]) ++ [ "--add-flags" "--js-runtimes=quickjs" ];
  passthru = (old.passthru or { }) // {
    inherit yt-dlp-ejs websockets python;
    jsRuntime = quickjs-ng;
  };
})
