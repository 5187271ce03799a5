# Stand-in for the parts of nixpkgs' lib/ that the SOFATHEK flake (and the crane stub)
# use, for offline evaluation only. Each function keeps the real signature; functions
# taking an attribute set reject argument names the real one does not accept.
# Sources (nixpkgs): lib/attrsets.nix, lib/lists.nix, lib/strings.nix, lib/meta.nix,
# lib/fileset/default.nix (toSource, union, unions, fileFilter, maybeMissing).
let
  inherit (builtins)
    attrNames
    concatMap
    concatStringsSep
    elem
    filter
    isAttrs
    isFunction
    isList
    isPath
    listToAttrs
    map
    pathExists
    stringLength
    substring
    typeOf
    ;

  hasPrefix = pre: s: substring 0 (stringLength pre) s == pre;
  hasSuffix = suf: s:
    let
      ls = stringLength s;
      lf = stringLength suf;
    in
    lf <= ls && substring (ls - lf) lf s == suf;

  # Throws unless every attribute name of `args` is in `accepted`.
  checkArgs = fname: accepted: args:
    let
      unknown = filter (n: !(elem n accepted)) (attrNames args);
    in
    if !isAttrs args then throw "${fname}: expected an attribute set, got ${typeOf args}"
    else if unknown == [ ] then args
    else throw "${fname}: unknown argument(s): ${concatStringsSep ", " unknown} (accepted: ${concatStringsSep ", " accepted})";

  # builtins.readFileType is newer than the Nix 2.8 these checks run with.
  isDirectory = p:
    let parent = dirOf p; in
    if toString parent == builtins.storeDir then true
    else ((builtins.readDir parent).${baseNameOf p} or null) == "directory";

  isDerivation = x: isAttrs x && (x.type or null) == "derivation";

  getOutput = output: pkg: if isDerivation pkg then pkg.${output} or pkg.out or pkg else pkg;
  getBin = getOutput "bin";
  getLib = getOutput "lib";
  getDev = getOutput "dev";

  getExe' = x: y:
    if !isDerivation x then throw "lib.getExe': the first argument is not a derivation"
    else "${getBin x}/bin/${y}";
  getExe = x:
    if !(x ? meta.mainProgram)
    then throw "lib.getExe: ${x.name or "<value>"} has no meta.mainProgram (the real lib warns and guesses; the flake must not rely on that)"
    else getExe' x x.meta.mainProgram;

  # lib/fileset: a file set is a list of { base; pred; } entries; `pred` sees the same
  # `file` argument as the real fileFilter: { name, type, hasExt }.
  fileset =
    let
      mk = entries: { _type = "fileset"; inherit entries; };
      isFileset = x: isAttrs x && (x._type or null) == "fileset";
      coerce = ctx: x:
        if isFileset x then x
        else if isPath x then
          if pathExists x then mk [{ base = x; pred = _: true; }]
          else throw "${ctx}: path ${toString x} does not exist (lib.fileset.maybeMissing allows that)"
        else throw "${ctx}: expected a path or a file set, got ${typeOf x}";
      under = base: p: p == toString base || hasPrefix "${toString base}/" p;
      fileOf = p: type:
        let name = baseNameOf p; in {
          inherit name;
          type = if type == "regular" || type == "symlink" then type else "unknown";
          hasExt = ext: hasSuffix ".${ext}" name;
        };
    in
    {
      unions = list:
        if !isList list then throw "lib.fileset.unions: expected a list, got ${typeOf list}"
        else mk (concatMap (x: (coerce "lib.fileset.unions" x).entries) list);

      # Entries of `a`, each minus every entry of `b` (excluded directories are pruned
      # whole when the `b` entry has no predicate, i.e. came from a path).
      difference = a: b:
        let
          minus = (coerce "lib.fileset.difference: second argument" b).entries;
        in
        mk (map (e: e // { minus = (e.minus or [ ]) ++ minus; }) (coerce "lib.fileset.difference: first argument" a).entries);

      union = a: b: mk ((coerce "lib.fileset.union" a).entries ++ (coerce "lib.fileset.union" b).entries);

      maybeMissing = path:
        if !isPath path then throw "lib.fileset.maybeMissing: expected a path, got ${typeOf path}"
        else if pathExists path then coerce "lib.fileset.maybeMissing" path
        else mk [ ];

      fileFilter = pred: path:
        if !isFunction pred then throw "lib.fileset.fileFilter: the predicate is not a function"
        else if !isPath path then throw "lib.fileset.fileFilter: expected a path, got ${typeOf path}"
        else if !pathExists path then throw "lib.fileset.fileFilter: path ${toString path} does not exist"
        else mk [{ base = path; inherit pred; }];

      toSource = args:
        let
          a = checkArgs "lib.fileset.toSource" [ "root" "fileset" ] args;
          fs = coerce "lib.fileset.toSource: `fileset`" a.fileset;
          outside = filter (e: !(under a.root (toString e.base))) fs.entries;
          matches = p: type: e: under e.base p && e.pred (fileOf p type);
          excluded = p: type: e: builtins.any (m: matches p type m) (e.minus or [ ]);
          keep = p: type:
            if type == "directory" then
              builtins.any (e: under p (toString e.base) || (under e.base p && !(excluded p "directory" e))) fs.entries
            else
              builtins.any (e: matches p type e && !(excluded p type e)) fs.entries;
        in
        if !isPath a.root then throw "lib.fileset.toSource: `root` must be a path"
        else if !pathExists a.root then throw "lib.fileset.toSource: `root` (${toString a.root}) does not exist"
        else if !(isDirectory a.root) then throw "lib.fileset.toSource: `root` must be a directory"
        else if outside != [ ] then throw "lib.fileset.toSource: `fileset` has files outside `root` (${toString a.root}): ${toString (map (e: e.base) outside)}"
        else builtins.path { name = "source"; path = a.root; filter = keep; };
    };

  licenses = listToAttrs (map (n: { name = n; value = { shortName = n; }; }) [
    "mit"
    "asl20"
    "bsd3"
    "isc"
    "unlicense"
    "gpl2Plus"
    "gpl3Plus"
    "lgpl21Plus"
  ]);
in
{
  inherit
    checkArgs
    isDerivation
    getOutput
    getBin
    getLib
    getDev
    getExe
    getExe'
    fileset
    licenses
    hasPrefix
    hasSuffix
    ;

  version = "26.05pre-stub";

  genAttrs = names: f: listToAttrs (map (n: { name = n; value = f n; }) names);
  mapAttrsToList = f: attrs: map (n: f n attrs.${n}) (attrNames attrs);
  filterAttrs = pred: attrs: listToAttrs (builtins.concatMap
    (n: if pred n attrs.${n} then [{ name = n; value = attrs.${n}; }] else [ ])
    (attrNames attrs));
  optional = cond: x: if cond then [ x ] else [ ];
  optionals = cond: xs: if cond then xs else [ ];
  optionalAttrs = cond: as: if cond then as else { };
  optionalString = cond: s: if cond then s else "";
  makeBinPath = pkgs: concatStringsSep ":" (map (p: "${getBin p}/bin") pkgs);
  inherit (builtins) any all elem filter attrValues concatStringsSep;
  isFunction = builtins.isFunction;

  platforms = {
    linux = [ "x86_64-linux" "aarch64-linux" ];
    darwin = [ "x86_64-darwin" "aarch64-darwin" ];
    unix = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
    all = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
  };
}
