# Stand-in package set: only the attributes the SOFATHEK flake uses. Derivations are real
# (they instantiate, so drvPath and dependencies exist) but their builder fails: this set
# is for evaluation, never for building.
#
# Every function rejects argument names that the pinned sources do not accept. Accepted
# names were read from these nixpkgs files (stored copies; see nix/stubs/README.md for
# the commits):
#   stdenv.mkDerivation        pkgs/stdenv/generic/make-derivation.nix, setup.sh phases
#   callPackage                lib/customisation.nix (callPackageWith, makeOverridable)
#   runCommand, writeShellApplication, linkFarmFromDrvs
#                              pkgs/build-support/trivial-builders/default.nix
#   mkShell                    pkgs/build-support/mkshell/default.nix
#   fetchPypi                  pkgs/build-support/fetchpypi/default.nix
#   buildPythonPackage/-App    pkgs/development/interpreters/python/mk-python-derivation.nix
#   ffmpeg-headless.override   pkgs/development/libraries/ffmpeg/generic.nix
#   yt-dlp.override            pkgs/by-name/yt/yt-dlp/package.nix
#   dockerTools.*              pkgs/build-support/docker/default.nix and
#                              doc/build-helpers/images/dockertools.section.md
#   fakeNss.override           pkgs/by-name/fa/fakeNss/package.nix
{ lib, system }:
let
  inherit (builtins)
    attrNames
    concatStringsSep
    elem
    filter
    isAttrs
    isBool
    isFunction
    isInt
    isList
    isPath
    isString
    match
    removeAttrs
    ;
  inherit (lib) checkArgs isDerivation;

  isLinux = elem system lib.platforms.linux;
  isDarwin = elem system lib.platforms.darwin;

  hostPlatform = {
    inherit system isLinux isDarwin;
    isx86_64 = match "x86_64-.*" system != null;
    isAarch64 = match "aarch64-.*" system != null;
    isStatic = false;
  };

  # ---------------------------------------------------------------- derivations --------

  # Values a builtins.derivation attribute can hold (strings, numbers, bools, paths,
  # derivations and lists of those); anything else (attribute sets, functions) is left
  # out of the environment.
  envSafe = v:
    isString v || isInt v || isBool v || isPath v || v == null || isDerivation v
    || (isList v && builtins.all envSafe v);

  mkDrv =
    { name
    , outputs ? [ "out" ]
    , env ? { }
    , meta ? { }
    , passthru ? { }
    }:
    let
      envAttrs = lib.genAttrs
        (filter (n: envSafe env.${n} && builtins.substring 0 2 n != "__") (attrNames env))
        (n: env.${n});
      drv = derivation (envAttrs // {
        inherit name system outputs;
        builder = "/bin/sh";
        args = [ "-c" "echo 'stub nixpkgs: evaluation only, cannot build' >&2; exit 1" ];
      });
      withOut = o: drv.${o} // { inherit meta passthru; } // passthru;
    in
    drv
    // lib.genAttrs outputs withOut
    // { inherit meta passthru; }
    // passthru;

  # Attribute names stdenv.mkDerivation and setup.sh give a meaning to. Upper-case names
  # (environment variables) and names listed in passAsFile are accepted as well, like
  # the real mkDerivation accepts arbitrary environment variables.
  stdenvAttrs = [
    "name"
    "pname"
    "version"
    "src"
    "srcs"
    "sourceRoot"
    "setSourceRoot"
    "unpackPhase"
    "preUnpack"
    "postUnpack"
    "dontUnpack"
    "unpackCmd"
    "patches"
    "patchPhase"
    "prePatch"
    "postPatch"
    "patchFlags"
    "dontPatch"
    "configurePhase"
    "preConfigure"
    "postConfigure"
    "dontConfigure"
    "configureFlags"
    "configurePlatforms"
    "configureScript"
    "dontAddPrefix"
    "prefix"
    "cmakeFlags"
    "mesonFlags"
    "buildPhase"
    "preBuild"
    "postBuild"
    "dontBuild"
    "buildFlags"
    "makeFlags"
    "makefile"
    "enableParallelBuilding"
    "enableParallelChecking"
    "checkPhase"
    "preCheck"
    "postCheck"
    "doCheck"
    "checkTarget"
    "checkFlags"
    "installPhase"
    "preInstall"
    "postInstall"
    "dontInstall"
    "installFlags"
    "installTargets"
    "fixupPhase"
    "preFixup"
    "postFixup"
    "dontFixup"
    "dontStrip"
    "dontPatchELF"
    "dontPatchShebangs"
    "installCheckPhase"
    "preInstallCheck"
    "postInstallCheck"
    "doInstallCheck"
    "phases"
    "prePhases"
    "preInstallPhases"
    "preFixupPhases"
    "preDistPhases"
    "postPhases"
    "buildCommand"
    "nativeBuildInputs"
    "buildInputs"
    "propagatedBuildInputs"
    "propagatedNativeBuildInputs"
    "depsBuildBuild"
    "depsBuildTarget"
    "depsHostHost"
    "depsTargetTarget"
    "nativeCheckInputs"
    "checkInputs"
    "nativeInstallCheckInputs"
    "installCheckInputs"
    "strictDeps"
    "outputs"
    "setOutputFlags"
    "meta"
    "passthru"
    "env"
    "passAsFile"
    "allowSubstitutes"
    "preferLocalBuild"
    "disallowedReferences"
    "disallowedRequisites"
    "allowedReferences"
    "allowedRequisites"
    "exportReferencesGraph"
    "hardeningEnable"
    "hardeningDisable"
    "separateDebugInfo"
    "setupHook"
    "shellHook"
    "requiredSystemFeatures"
    "__structuredAttrs"
    "__darwinAllowLocalNetworking"
    "__impureHostDeps"
    "__propagatedImpureHostDeps"
  ];

  checkDrvAttrs = fname: extra: args:
    let
      accepted = stdenvAttrs ++ extra ++ (args.passAsFile or [ ]);
      isEnvVar = n: match "[A-Z_][A-Z0-9_]*" n != null;
      unknown = filter (n: !(elem n accepted) && !(isEnvVar n)) (attrNames args);
    in
    if unknown == [ ] then args
    else throw "${fname}: unknown attribute(s): ${concatStringsSep ", " unknown}";

  drvName = args:
    args.name or (if args ? pname && args ? version then "${args.pname}-${args.version}"
    else throw "mkDerivation: needs `name` or `pname` and `version`");

  mkDerivationWith = fname: extra: argsOrFn:
    let
      args0 = if isFunction argsOrFn then argsOrFn args0 else argsOrFn;
      args = checkDrvAttrs fname extra args0;
      self = mkDrv {
        name = drvName args;
        outputs = args.outputs or [ "out" ];
        env = removeAttrs args [ "meta" "passthru" "env" "outputs" ] // (args.env or { });
        meta = args.meta or { };
        passthru = (args.passthru or { }) // {
          overrideAttrs = f: mkDerivationWith fname extra (args // f args);
        };
      };
    in
    self;

  mkStdenv = cc: {
    inherit hostPlatform isLinux isDarwin;
    buildPlatform = hostPlatform;
    targetPlatform = hostPlatform;
    mkDerivation = mkDerivationWith "stdenv.mkDerivation" [ ];
    inherit cc;
  };

  simple = name: mainProgram: platforms:
    let
      drv = mkDrv {
        inherit name;
        meta = { inherit mainProgram platforms; };
      };
    in
    if elem system platforms then drv
    else throw "stub nixpkgs: ${name} is not available on ${system}";

  tool = name: simple name name lib.platforms.all;
  linuxTool = name: simple name name lib.platforms.linux;

  # ---------------------------------------------------------------- callPackage --------

  # lib/customisation.nix: auto-fills a function's formals from the package set, and
  # makeOverridable adds `override` and `overrideDerivation` to an attribute-set result.
  callPackage = fnOrPath: overrides:
    let
      f = if isPath fnOrPath then import fnOrPath else fnOrPath;
      formals = builtins.functionArgs f;
      auto = builtins.intersectAttrs formals pkgs;
      args = auto // overrides;
      missing = filter (n: !formals.${n} && !(args ? ${n})) (attrNames formals);
      result = f args;
    in
    if missing != [ ] then throw "callPackage ${toString fnOrPath}: function called without required argument(s) ${concatStringsSep ", " missing}"
    else if isAttrs result then result // {
      override = newArgs: callPackage fnOrPath (overrides // newArgs);
      overrideDerivation = throw "stub nixpkgs: overrideDerivation is not used by this flake";
    }
    else result;

  # ---------------------------------------------------------------- trivial builders ---

  runCommand = name: env: buildCommand:
    mkDerivationWith "runCommand" [ ] (env // { inherit name buildCommand; });

  writeShellApplication = args:
    let
      a = checkArgs "writeShellApplication"
        [ "name" "text" "runtimeInputs" "runtimeEnv" "meta" "passthru" "checkPhase" "excludeShellChecks" "extraShellCheckFlags" "bashOptions" "inheritPath" "derivationArgs" ]
        args;
    in
    mkDrv {
      inherit (a) name;
      env = { inherit (a) text; runtimeInputs = a.runtimeInputs or [ ]; };
      meta = (a.meta or { }) // { mainProgram = a.name; };
      passthru = a.passthru or { };
    };

  linkFarmFromDrvs = name: drvs:
    if !(isList drvs && builtins.all isDerivation drvs)
    then throw "linkFarmFromDrvs: expected a list of derivations"
    else mkDrv { inherit name; env.paths = drvs; };

  mkShell = args:
    mkDerivationWith "mkShell"
      [ "packages" "inputsFrom" ]
      (removeAttrs args [ "name" ] // { name = args.name or "nix-shell"; });

  # ---------------------------------------------------------------- fetchers -----------

  checkHash = fname: hash:
    if match "sha256-[A-Za-z0-9+/]{43}=" hash == null
    then throw "${fname}: `hash` must be an SRI sha256 hash, got ${hash}"
    else if hash == "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    then throw "${fname}: lib.fakeHash is not allowed"
    else hash;

  fetchPypi = args:
    let
      a = checkArgs "fetchPypi" [ "pname" "version" "format" "sha256" "hash" "dist" "python" "abi" "platform" "extension" ] args;
      format = a.format or "setuptools";
      file =
        if format == "wheel" then "${a.pname}-${a.version}-${a.python or "py2.py3"}-${a.abi or "none"}-${a.platform or "any"}.whl"
        else if format == "setuptools" then "${a.pname}-${a.version}.${a.extension or "tar.gz"}"
        else throw "fetchPypi: unsupported format ${format}";
    in
    builtins.seq (checkHash "fetchPypi" a.hash) (mkDrv {
      name = file;
      env = { outputHash = a.hash; pypiFile = file; };
    });

  # ---------------------------------------------------------------- python -------------

  # pkgs/development/interpreters/python/cpython/default.nix formals (stored copies
  # 007088359e and 482a59bb): `python3.override` accepts exactly these. The result has
  # `pkgs` (the package set built with `self`, as passthruFun does), `override` and
  # `overrideAttrs`.
  cpythonFormals = [
    "lib"
    "stdenv"
    "fetchurl"
    "fetchpatch"
    "fetchgit"
    "autoconf-archive"
    "autoreconfHook"
    "nukeReferences"
    "pkg-config"
    "python-setup-hook"
    "bzip2"
    "expat"
    "libffi"
    "libxcrypt"
    "mpdecimal"
    "ncurses"
    "openssl"
    "sqlite"
    "xz"
    "zlib"
    "bash"
    "configd"
    "darwin"
    "windows"
    "bluezSupport"
    "bluez"
    "mimetypesSupport"
    "mailcap"
    "tzdata"
    "withGdbm"
    "gdbm"
    "withReadline"
    "readline"
    "x11Support"
    "tcl"
    "tk"
    "tix"
    "libX11"
    "xorgproto"
    "pythonAttr"
    "self"
    "pkgsBuildBuild"
    "pkgsBuildHost"
    "pkgsBuildTarget"
    "pkgsHostHost"
    "pkgsTargetTarget"
    "sourceVersion"
    "hash"
    "passthruFun"
    "stripConfig"
    "stripIdlelib"
    "stripTests"
    "stripTkinter"
    "rebuildBytecode"
    "stripBytecode"
    "includeSiteCustomize"
    "static"
    "enableFramework"
    "noldconfigPatch"
    "enableGIL"
    "enableOptimizations"
    "enableNoSemanticInterposition"
    "enableLTO"
    "reproducibleBuild"
    "packageOverrides"
    "testers"
  ];

  mkPython = args: drvArgs:
    let
      a = checkArgs "python3.override (cpython/default.nix)" cpythonFormals args;
      flags = lib.filterAttrs (n: v: n != "self" && (isBool v || v == null)) a;
      attrs = checkDrvAttrs "python3 (cpython/default.nix) overrideAttrs" [ ] drvArgs;
      this = mkDrv {
        name = "python3-3.13.9";
        env = attrs // {
          flags = builtins.toJSON (builtins.mapAttrs (_: v: if v == null then "null" else v) flags);
        };
        meta = { mainProgram = "python3"; platforms = lib.platforms.all; };
        passthru = {
          pkgs = mkPythonPackages (a.self or this);
          pythonVersion = "3.13";
          sitePackages = "lib/python3.13/site-packages";
          override = newArgs: mkPython (a // newArgs) drvArgs;
          overrideAttrs = f: mkPython a (drvArgs // (if isFunction f then f drvArgs else f));
        };
      };
    in
    this;

  python3 = mkPython { } { pname = "python3"; version = "3.13.9"; postInstall = ""; };

  # mk-python-derivation.nix formals (plus mkDerivation attributes and the hooks' knobs).
  pythonAttrs = [
    "dependencies"
    "optional-dependencies"
    "build-system"
    "pythonPath"
    "disabled"
    "catchConflicts"
    "makeWrapperArgs"
    "dontWrapPythonPrograms"
    "dontUsePipInstall"
    "permitUserSite"
    "removeBinBytecode"
    "pyproject"
    "format"
    "disabledTestPaths"
    "stdenv"
    "pythonImportsCheck"
    "pythonRelaxDeps"
    "pythonRemoveDeps"
    "disabledTests"
    "pytestFlags"
    "pytestFlagsArray"
    "unittestFlags"
    "unittestFlagsArray"
  ];

  buildPython = python: fname: args:
    let
      a = checkDrvAttrs fname pythonAttrs args;
      fmt = a.format or null;
      self = mkDrv {
        name = "python3.13-${a.pname}-${a.version}";
        outputs = a.outputs or [ "out" ];
        env = {
          inherit (a) src;
          propagatedBuildInputs = (a.propagatedBuildInputs or [ ]) ++ (a.dependencies or [ ]) ++ [ python ];
          nativeBuildInputs = (a.nativeBuildInputs or [ ]) ++ (a.build-system or [ ]);
          makeWrapperArgs = a.makeWrapperArgs or [ ];
          postPatch = a.postPatch or "";
          postInstall = a.postInstall or "";
          doCheck = a.doCheck or true;
        };
        meta = a.meta or { };
        passthru = (a.passthru or { }) // {
          inherit (a) pname version;
          dependencies = a.dependencies or [ ];
          optional-dependencies = a.optional-dependencies or { };
          overridePythonAttrs = f: buildPython python fname (a // (if isFunction f then f a else f));
        };
      };
    in
    if fmt != null && !(elem fmt [ "setuptools" "wheel" "pyproject" "egg" "other" ])
    then throw "${fname}: unknown format ${fmt}"
    else if fmt != null && a ? pyproject
    then throw "${fname}: set either `format` or `pyproject`, not both"
    else self;

  # The package set of an interpreter (python.pkgs, python3Packages = python3.pkgs).
  mkPythonPackages = python:
    let
      pyPkg = name: buildPython python "buildPythonPackage" {
        pname = name;
        version = "0";
        src = mkDrv { name = "${name}-src"; };
        pyproject = true;
      };
    in
    {
      inherit python;
      buildPythonPackage = buildPython python "buildPythonPackage";
      buildPythonApplication = buildPython python "buildPythonApplication";
      hatchling = pyPkg "hatchling";
      brotli = pyPkg "brotli";
      certifi = pyPkg "certifi";
      mutagen = pyPkg "mutagen";
      pycryptodomex = pyPkg "pycryptodomex";
      requests = pyPkg "requests";
      urllib3 = pyPkg "urllib3";
      websockets = pyPkg "websockets";
      yt-dlp-ejs = pyPkg "yt-dlp-ejs";
      curl-cffi = pyPkg "curl-cffi";
      cffi = pyPkg "cffi";
      secretstorage = pyPkg "secretstorage";
    };

  python3Packages = python3.pkgs;

  # ---------------------------------------------------------------- yt-dlp -------------

  # pkgs/by-name/yt/yt-dlp/package.nix (2026.07.04): the same formals, and the same
  # attributes passed to buildPythonApplication, so overridePythonAttrs sees what the
  # real recipe's `old` holds.
  ytDlpRecipe =
    { lib
    , fetchFromGitHub
    , atomicparsley
    , bun
    , deno
    , ffmpeg-headless
    , installShellFiles
    , nix-update-script
    , nodejs
    , pandoc
    , python3Packages
    , quickjs
    , quickjs-ng
    , rtmpdump
    , stdenvNoCC
    , yt-dlp
    , atomicparsleySupport ? true
    , ffmpegSupport ? true
    , javascriptSupport ? true
    , jsRuntime ? deno
    , rtmpSupport ? true
    , withAlias ? false
    , withSecretStorage ? !stdenvNoCC.hostPlatform.isDarwin
    }:
    let
      optional-dependencies = {
        curl-cffi = [ python3Packages.curl-cffi ];
        default = with python3Packages; [ brotli certifi mutagen pycryptodomex requests urllib3 websockets yt-dlp-ejs ];
        secretstorage = with python3Packages; [ cffi secretstorage ];
      };
      binPath =
        lib.optional atomicparsleySupport atomicparsley
        ++ lib.optional ffmpegSupport ffmpeg-headless
        ++ lib.optional rtmpSupport rtmpdump;
    in
    builtins.seq [ bun nodejs quickjs quickjs-ng yt-dlp withAlias nix-update-script ]
      (python3Packages.buildPythonApplication {
        pname = "yt-dlp";
        version = "2026.07.04";
        src = fetchFromGitHub { owner = "yt-dlp"; repo = "yt-dlp"; tag = "2026.07.04"; hash = "sha256-+oHcVylLXFJTRR6jXF6IXvgntXJz0tRdtnwTruRPkoc="; };
        outputs = [ "out" "man" "doc" ];
        postPatch = lib.optionalString javascriptSupport
          "substituteInPlace yt_dlp/utils/_jsruntime.py --replace-fail \"path = _determine_runtime_path(self._path, '${jsRuntime.meta.mainProgram}')\" \"path = '${lib.getExe jsRuntime}'\"";
        nativeBuildInputs = [ installShellFiles pandoc ];
        __structuredAttrs = true;
        build-system = [ python3Packages.hatchling ];
        dependencies = optional-dependencies.default ++ optional-dependencies.curl-cffi
          ++ lib.optionals withSecretStorage optional-dependencies.secretstorage;
        makeWrapperArgs = lib.optionals (binPath != [ ]) [ "--prefix" "PATH" ":" "\"${lib.makeBinPath binPath}\"" ];
        inherit optional-dependencies;
        pyproject = true;
        pythonRelaxDeps = [ "websockets" ];
        meta = { mainProgram = "yt-dlp"; license = lib.licenses.unlicense; };
      });

  fetchFromGitHub = args:
    let
      a = checkArgs "fetchFromGitHub" [ "owner" "repo" "rev" "tag" "hash" "sha256" "fetchSubmodules" "postFetch" "name" ] args;
    in
    builtins.seq (checkHash "fetchFromGitHub" a.hash)
      (mkDrv { name = "source"; env.outputHash = a.hash; passthru = { inherit (a) owner repo; }; });

  # ---------------------------------------------------------------- ffmpeg -------------

  # Formals of pkgs/development/libraries/ffmpeg/generic.nix (stored copy e9a47ce3,
  # ffmpeg 8.x era); `override` accepts exactly these.
  ffmpegFormals = [
    "lib"
    "config"
    "stdenv"
    "buildPackages"
    "removeReferencesTo"
    "addDriverRunpath"
    "pkg-config"
    "perl"
    "texinfo"
    "texinfo6"
    "yasm"
    "nasm"
    "version"
    "hash"
    "source"
    "ffmpegVariant"
    "withHeadlessDeps"
    "withSmallDeps"
    "withFullDeps"
    "fetchgit"
    "fetchpatch2"
    "withAlsa"
    "withAmf"
    "withAom"
    "withAribb24"
    "withAribcaption"
    "withAss"
    "withAvisynth"
    "withBluray"
    "withBs2b"
    "withBzlib"
    "withCaca"
    "withCdio"
    "withCelt"
    "withChromaprint"
    "withCodec2"
    "withCuda"
    "withCudaLLVM"
    "withCudaNVCC"
    "withCuvid"
    "withDav1d"
    "withDavs2"
    "withDc1394"
    "withDrm"
    "withDvdnav"
    "withDvdread"
    "withFdkAac"
    "withNvcodec"
    "withFlite"
    "withFontconfig"
    "withFreetype"
    "withFrei0r"
    "withFribidi"
    "withGme"
    "withGmp"
    "withGnutls"
    "withGsm"
    "withHarfbuzz"
    "withIconv"
    "withIlbc"
    "withJack"
    "withJxl"
    "withKvazaar"
    "withLadspa"
    "withLc3"
    "withLcevcdec"
    "withLcms2"
    "withLzma"
    "withMetal"
    "withMfx"
    "withModplug"
    "withMp3lame"
    "withMysofa"
    "withNpp"
    "withNvdec"
    "withNvenc"
    "withOpenal"
    "withOpenapv"
    "withOpencl"
    "withOpencoreAmrnb"
    "withOpencoreAmrwb"
    "withOpengl"
    "withOpenh264"
    "withOpenjpeg"
    "withOpenmpt"
    "withOpus"
    "withPlacebo"
    "withPulse"
    "withQrencode"
    "withQuirc"
    "withRav1e"
    "withRist"
    "withRtmp"
    "withRubberband"
    "withSamba"
    "withSdl2"
    "withShaderc"
    "withShine"
    "withSnappy"
    "withSoxr"
    "withSpeex"
    "withSrt"
    "withSsh"
    "withSvg"
    "withSvtav1"
    "withTensorflow"
    "withTheora"
    "withTwolame"
    "withUavs3d"
    "withV4l2"
    "withV4l2M2m"
    "withVaapi"
    "withVdpau"
    "withVidStab"
    "withVmaf"
    "withVoAmrwbenc"
    "withVorbis"
    "withVpl"
    "withVpx"
    "withVulkan"
    "withVvenc"
    "withWebp"
    "withWhisper"
    "withX264"
    "withX265"
    "withXavs"
    "withXavs2"
    "withXcb"
    "withXcbShape"
    "withXcbShm"
    "withXcbxfixes"
    "withXevd"
    "withXeve"
    "withXlib"
    "withXml2"
    "withXvid"
    "withZimg"
    "withZlib"
    "withZmq"
    "withZvbi"
    "withGPL"
    "withVersion3"
    "withGPLv3"
    "withUnfree"
    "withSmallBuild"
    "withRuntimeCPUDetection"
    "withGrayscale"
    "withSwscaleAlpha"
    "withHardcodedTables"
    "withSafeBitstreamReader"
    "withMultithread"
    "withNetwork"
    "withPixelutils"
    "withStatic"
    "withShared"
    "withPic"
    "withThumb"
    "buildFfmpeg"
    "buildFfplay"
    "buildFfprobe"
    "buildQtFaststart"
    "withBin"
    "buildAvcodec"
    "buildAvdevice"
    "buildAvfilter"
    "buildAvformat"
    "buildAvresample"
    "buildAvutil"
    "buildPostproc"
    "buildSwresample"
    "buildSwscale"
    "withLib"
    "withDocumentation"
    "withHtmlDoc"
    "withManPages"
    "withPodDoc"
    "withTxtDoc"
    "withDoc"
    "withDebug"
    "withOptimisations"
    "withExtraWarnings"
    "withStripping"
    # external libraries and toolchain formals
    "alsa-lib"
    "amf"
    "amf-headers"
    "aribb24"
    "avisynthplus"
    "bzip2"
    "celt"
    "chromaprint"
    "codec2"
    "clang"
    "dav1d"
    "davs2"
    "fdk_aac"
    "flite"
    "fontconfig"
    "freetype"
    "frei0r"
    "fribidi"
    "game-music-emu"
    "gmp"
    "gnutls"
    "gsm"
    "harfbuzz"
    "intel-media-sdk"
    "kvazaar"
    "ladspaH"
    "lame"
    "lcevcdec"
    "lcms2"
    "libaom"
    "libaribcaption"
    "libass"
    "libbluray"
    "libbs2b"
    "libcaca"
    "libcdio"
    "libcdio-paranoia"
    "libdc1394"
    "libdrm"
    "libdvdnav"
    "libdvdread"
    "libGL"
    "libGLU"
    "libiconv"
    "libilbc"
    "libjack2"
    "libjxl"
    "liblc3"
    "libmodplug"
    "libmysofa"
    "libopenmpt"
    "libopus"
    "libplacebo"
    "libplacebo_5"
    "libpulseaudio"
    "libraw1394"
    "librist"
    "librsvg"
    "libssh"
    "libtensorflow"
    "libtheora"
    "libv4l"
    "libva"
    "libva-minimal"
    "libvdpau"
    "libvmaf"
    "libvorbis"
    "libvpl"
    "libvpx"
    "libwebp"
    "libX11"
    "libxcb"
    "libXext"
    "libxml2"
    "libXv"
    "nv-codec-headers"
    "nv-codec-headers-12"
    "ocl-icd"
    "openal"
    "openapv"
    "opencl-headers"
    "opencore-amr"
    "openh264"
    "openjpeg"
    "qrencode"
    "quirc"
    "rav1e"
    "rtmpdump"
    "rubberband"
    "twolame"
    "samba"
    "SDL2"
    "shaderc"
    "shine"
    "snappy"
    "soxr"
    "speex"
    "srt"
    "svt-av1"
    "uavs3d"
    "vid-stab"
    "vo-amrwbenc"
    "vulkan-headers"
    "vulkan-loader"
    "vvenc"
    "whisper-cpp"
    "x264"
    "x265"
    "xavs"
    "xavs2"
    "xevd"
    "xeve"
    "xvidcore"
    "xz"
    "zeromq"
    "zimg"
    "zlib"
    "zvbi"
    "apple-sdk_15"
    "xcode"
    "cuda_cudart"
    "cuda_nvcc"
    "libnpp"
    "testers"
  ];

  mkFfmpeg = args: mkFfmpegWith args { };

  mkFfmpegWith = args: drvArgs:
    let
      a = checkArgs "ffmpeg-headless.override (generic.nix)" ffmpegFormals args;
      hd = a.withHeadlessDeps or true; # variant "headless"
      opt = n: a.${n} or hd;
      buildFfmpeg = opt "buildFfmpeg";
      buildFfprobe = opt "buildFfprobe";
      withBin = a.withBin or (buildFfmpeg || buildFfprobe || (a.buildFfplay or false) || (a.buildQtFaststart or false));
      withManPages = opt "withManPages";
      withDoc = a.withDoc or (opt "withHtmlDoc" || opt "withPodDoc" || opt "withTxtDoc");
      outputs = lib.optional withBin "bin" ++ [ "lib" "dev" ] ++ lib.optional withDoc "doc"
        ++ lib.optional withManPages "man" ++ [ "data" "out" ];
      # generic.nix asserts
      ok =
        (!buildFfmpeg || (opt "buildAvcodec" && opt "buildAvfilter" && opt "buildAvformat" && opt "buildSwresample"))
        && (!buildFfprobe || (opt "buildAvcodec" && opt "buildAvformat"));
    in
    if !ok then throw "ffmpeg generic.nix: assertion failed (ffmpeg needs avcodec, avfilter, avformat, swresample; ffprobe needs avcodec, avformat)"
    else
      mkDrv {
        name = "ffmpeg-headless-8.0";
        inherit outputs;
        env = checkDrvAttrs "ffmpeg (generic.nix) overrideAttrs" [ ] drvArgs // {
          configureFlags = map (n: "${n}=${if a.${n} then "1" else "0"}") (filter (n: builtins.isBool a.${n}) (attrNames a));
          libwebp = a.libwebp or null;
        };
        meta.mainProgram = "ffmpeg";
        passthru = {
          override = newArgs: mkFfmpegWith (a // newArgs) drvArgs;
          overrideAttrs = f: mkFfmpegWith a (drvArgs // (if isFunction f then f drvArgs else f));
        };
      };

  # ---------------------------------------------------------------- libwebp ------------

  # pkgs/by-name/li/libwebp/package.nix (stored copy 09023cb3): `override` accepts exactly
  # these formals.
  libwebpFormals = [
    "lib"
    "stdenv"
    "fetchFromGitHub"
    "cmake"
    "threadingSupport"
    "openglSupport"
    "libglut"
    "libGL"
    "libGLU"
    "pngSupport"
    "libpng"
    "jpegSupport"
    "libjpeg"
    "tiffSupport"
    "libtiff"
    "gifSupport"
    "giflib"
    "swap16bitcspSupport"
    "libwebpmuxSupport"
    "gd"
    "graphicsmagick"
    "haskellPackages"
    "imagemagick"
    "imlib2"
    "libjxl"
    "opencv"
    "python3"
    "vips"
  ];

  mkLibwebp = args:
    let
      a = checkArgs "libwebp.override (pkgs/by-name/li/libwebp/package.nix)" libwebpFormals args;
    in
    mkDrv {
      name = "libwebp-1.6.0";
      outputs = [ "out" ];
      env.flags = map (n: "${n}=${if a.${n} then "1" else "0"}") (filter (n: isBool a.${n}) (attrNames a));
      passthru.override = newArgs: mkLibwebp (a // newArgs);
    };

  # pkgs/build-support/closure-info.nix: `{ rootPaths }` -> $out/{store-paths,registration,total-nar-size}.
  closureInfo = args:
    let
      a = checkArgs "closureInfo" [ "rootPaths" ] args;
    in
    if !(isList a.rootPaths) then throw "closureInfo: rootPaths must be a list"
    else mkDrv { name = "closure-info"; env.rootPaths = a.rootPaths; };

  # ---------------------------------------------------------------- dockerTools --------

  ociConfigKeys = [ "User" "ExposedPorts" "Env" "Entrypoint" "Cmd" "Healthcheck" "Volumes" "WorkingDir" "Labels" "StopSignal" "ArgsEscaped" "Memory" "MemorySwap" "CpuShares" "OnBuild" "Shell" ];
  healthcheckKeys = [ "Test" "Interval" "Timeout" "StartPeriod" "StartInterval" "Retries" ];

  checkOciConfig = config:
    let
      c = checkArgs "dockerTools: config (image-spec config fields)" ociConfigKeys config;
      badEnv = filter (e: match "[A-Za-z_][A-Za-z0-9_]*=.*" e == null) (c.Env or [ ]);
    in
    if badEnv != [ ] then throw "dockerTools: Env entries must be NAME=value: ${toString badEnv}"
    else if c ? Healthcheck then builtins.seq (checkArgs "dockerTools: config.Healthcheck" healthcheckKeys c.Healthcheck) c
    else c;

  layeredArgs = [
    "name"
    "tag"
    "fromImage"
    "contents"
    "config"
    "architecture"
    "created"
    "mtime"
    "uid"
    "gid"
    "uname"
    "gname"
    "maxLayers"
    "extraCommands"
    "fakeRootCommands"
    "enableFakechroot"
    "includeStorePaths"
    "includeNixDB"
    "passthru"
    "meta"
    "layeringPipeline"
    "debug"
  ];

  streamLayeredImage = args:
    let
      a = checkArgs "dockerTools.streamLayeredImage" layeredArgs args;
      contents = if isList (a.contents or [ ]) then a.contents or [ ] else [ a.contents ];
    in
    builtins.seq (checkOciConfig (a.config or { })) (mkDrv {
      name = "stream-${a.name}";
      env = {
        inherit contents;
        config = builtins.toJSON (a.config or { });
        fakeRootCommands = a.fakeRootCommands or "";
        created = a.created or "1970-01-01T00:00:01Z";
      };
      passthru = (a.passthru or { }) // {
        imageName = a.name;
        imageTag = a.tag or "stub";
        isExe = true;
      };
    });

  buildLayeredImage = args:
    let
      stream = streamLayeredImage args;
    in
    mkDrv {
      name = "${args.name}.tar.gz";
      env.stream = stream;
      passthru = { inherit (stream) imageName imageTag; };
    };

  fakeNssWith = args:
    let
      a = checkArgs "fakeNss.override (pkgs/by-name/fa/fakeNss/package.nix)"
        [ "lib" "symlinkJoin" "writeTextDir" "runCommand" "extraPasswdLines" "extraGroupLines" ]
        args;
    in
    mkDrv {
      name = "fake-nss";
      env = { passwd = a.extraPasswdLines or [ ]; group = a.extraGroupLines or [ ]; };
      passthru.override = newArgs: fakeNssWith (a // newArgs);
    };

  fakeNss = fakeNssWith { };

  dockerTools = {
    inherit streamLayeredImage buildLayeredImage fakeNss;
    caCertificates = mkDrv { name = "ca-certificates"; };
    usrBinEnv = mkDrv { name = "usr-bin-env"; };
    binSh = mkDrv { name = "bin-sh"; };
  };

  # ---------------------------------------------------------------- the set ------------

  pkgs = {
    inherit lib callPackage runCommand writeShellApplication linkFarmFromDrvs mkShell
      fetchPypi fetchFromGitHub python3 python3Packages dockerTools fakeNss closureInfo;

    libwebp = mkLibwebp { };

    stdenv = mkStdenv (simple "gcc-wrapper" "cc" lib.platforms.all);
    stdenvNoCC = mkStdenv null;

    yt-dlp = callPackage ytDlpRecipe { };
    ffmpeg-headless = mkFfmpeg { };

    makeBinaryWrapper = mkDrv { name = "make-binary-wrapper-hook"; };
    libiconv = simple "libiconv" "iconv" lib.platforms.all;
    tini = linuxTool "tini";
    tzdata = mkDrv { name = "tzdata-2025b"; outputs = [ "out" "bin" "man" "dev" ]; };
    quickjs = simple "quickjs" "qjs" lib.platforms.all;
    quickjs-ng = mkDrv { name = "quickjs-ng"; outputs = [ "bin" "out" "dev" "doc" "info" ]; meta.mainProgram = "qjs"; };
    deno = tool "deno";
    bun = tool "bun";
    nodejs = simple "nodejs" "node" lib.platforms.all;
    atomicparsley = simple "atomicparsley" "AtomicParsley" lib.platforms.all;
    rtmpdump = tool "rtmpdump";
    pandoc = tool "pandoc";
    installShellFiles = mkDrv { name = "install-shell-files"; };
    nix-update-script = { };

    rustc = tool "rustc";
    cargo = tool "cargo";
    clippy = simple "clippy" "cargo-clippy" lib.platforms.all;
    rustfmt = tool "rustfmt";
    rust-analyzer = tool "rust-analyzer";
    cargo-nextest = simple "cargo-nextest" "cargo-nextest" lib.platforms.all;
    cargo-deny = tool "cargo-deny";
    cargo-audit = tool "cargo-audit";
    cargo-llvm-cov = tool "cargo-llvm-cov";
    taplo = tool "taplo";
    rsync = tool "rsync";
    zstd = tool "zstd";
    watchexec = tool "watchexec";
    systemfd = tool "systemfd";
    # pkgs/by-name/mo/mold: the wrapped linker since 2025-11 (aliases.nix: mold-wrapped renamed to mold).
    mold = simple "mold" "mold" lib.platforms.unix;
    esbuild = tool "esbuild";
    brotli = tool "brotli";
    gzip = tool "gzip";
    sqlite = simple "sqlite" "sqlite3" lib.platforms.all;
    jq = tool "jq";
    gawk = simple "gawk" "awk" lib.platforms.all;
    coreutils = simple "coreutils" "ls" lib.platforms.all;
    findutils = simple "findutils" "find" lib.platforms.all;
    gnugrep = simple "gnugrep" "grep" lib.platforms.all;
    gnused = simple "gnused" "sed" lib.platforms.all;
    gnutar = simple "gnutar" "tar" lib.platforms.all;
    diffutils = simple "diffutils" "diff" lib.platforms.all;
    less = tool "less";
    procps = simple "procps" "ps" lib.platforms.all;
    git = tool "git";
    gdb = tool "gdb";
    bashInteractive = simple "bash-interactive" "bash" lib.platforms.all;
    nixpkgs-fmt = tool "nixpkgs-fmt";
    deadnix = tool "deadnix";
    docker-compose = tool "docker-compose";
    sbomnix = tool "sbomnix";
    vulnix = tool "vulnix";

    # Only for the crane stub (not a nixpkgs attribute).
    __stub = { inherit mkDrv checkDrvAttrs stdenvAttrs mkDerivationWith; };
  };
in
pkgs
