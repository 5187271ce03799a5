# Supply-chain reports for image-prod (Linux):
#   - `sbom` (package and app): CycloneDX 1.x and SPDX JSON of the image's runtime closure,
#     written by sbomnix (pkgs/by-name/sb/sbomnix/package.nix);
#   - `vuln-report` (app): vulnix (pkgs/by-name/vu/vulnix/package.nix) over the same
#     closure, with nix/vulnix-whitelist.toml for triaged findings; exits non-zero when a
#     non-whitelisted CVE with CVSS v3 >= 7.0 (high or critical) remains.
# Both query the Nix store and fetch vulnerability feeds, so they are programs to run,
# not sandboxed builds. The closure root is the image's contents (the tarball itself has
# no store references).
{ writeShellApplication
, linkFarmFromDrvs
, sbomnix
, vulnix
, jq
, gawk
, coreutils
, image-prod
}:
let
  closureRoot = linkFarmFromDrvs "sofathek-image-prod-closure" image-prod.imageContents;
in
{
  sbom = writeShellApplication {
    name = "sofathek-sbom";
    runtimeInputs = [ sbomnix coreutils ];
    text = ''
      # Usage: sofathek-sbom [OUT_DIR]   (default: ./sbom)
      out="''${1:-sbom}"
      mkdir -p "$out"
      sbomnix ${closureRoot} \
        --cdx "$out/sofathek-image-prod.cdx.json" \
        --spdx "$out/sofathek-image-prod.spdx.json" \
        --csv "$out/sofathek-image-prod.csv"
      echo "SBOM of image-prod written to $out/ (CycloneDX, SPDX, CSV)"
    '';
    meta.description = "CycloneDX and SPDX SBOM of the image-prod runtime closure";
  };

  vuln-report = writeShellApplication {
    name = "sofathek-vuln-report";
    runtimeInputs = [ vulnix jq gawk coreutils ];
    text = ''
      # Usage: sofathek-vuln-report [OUT_DIR]   (default: ./vuln-report)
      out="''${1:-vuln-report}"
      mkdir -p "$out"
      # vulnix (src/vulnix/output.py) exits 2 when non-whitelisted findings remain, but
      # also on internal errors; the JSON tells the two apart. The verdict is ours: only
      # high/critical findings (CVSS v3 base score >= 7.0) fail.
      status=0
      vulnix --json --whitelist ${./vulnix-whitelist.toml} ${closureRoot} > "$out/vulnix.json" || status=$?
      if ! jq -e 'type == "array"' "$out/vulnix.json" > /dev/null 2>&1; then
        echo "vulnix failed (exit status $status); no report written" >&2
        exit 1
      fi
      # cvssv3_basescore also lists whitelisted CVEs: only look at affected_by.
      jq -r '
        [ .[] | . as $p | $p.affected_by[] as $cve
          | { score: ($p.cvssv3_basescore[$cve] // null), cve: $cve,
              pkg: "\($p.pname) \($p.version)" } ]
        | sort_by(.score) | reverse | .[]
        | "\(.score // "unscored")\t\(.cve)\t\(.pkg)"' "$out/vulnix.json" > "$out/findings.tsv"
      awk -F '\t' '$1 != "unscored" && $1 + 0 >= 7.0' "$out/findings.tsv" > "$out/high-critical.tsv"
      total=$(wc -l < "$out/findings.tsv")
      high=$(wc -l < "$out/high-critical.tsv")
      echo "vulnix: $total finding(s) not whitelisted; $high high/critical (CVSS v3 >= 7.0)"
      echo "reports: $out/vulnix.json, $out/findings.tsv, $out/high-critical.tsv"
      if [ "$high" -gt 0 ]; then
        echo "FAIL: high/critical findings in image-prod:"
        cat "$out/high-critical.tsv"
        exit 1
      fi
      echo "PASS: no high/critical findings in image-prod"
    '';
    meta.description = "vulnix report of the image-prod closure; fails on high/critical";
  };

  inherit closureRoot;
}
