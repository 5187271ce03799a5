# ffmpeg-min: ffmpeg + ffprobe with only what SOFATHEK needs.
#
# An override of nixpkgs' `ffmpeg-headless`; every argument below is a formal of
# pkgs/development/libraries/ffmpeg/generic.nix (checked against the stored nixpkgs copies
# e9a47ce3 and 00295488, the closest to the pinned 531670d8 that the index holds). Turning
# `withHeadlessDeps` off flips every optional dependency, documentation and program
# default of generic.nix to false, so what follows is an allow-list: anything not named
# here is disabled.
#
# External encoders: exactly the ones crates/media/src/plan.rs and crates/ingest/src/convert.rs name,
# plus the WebP encoder yt-dlp's --convert-thumbnails webp uses (see docs/DEPLOYMENT.md,
# "ffmpeg-min", and nix/size-budget.md):
#   - libx264 (H.264 encoder): the universal browser-playable target (MP4 + AAC);
#   - libmp3lame (MP3 encoder): the audio-only copies;
#   - libwebp: WebP thumbnails (built without PNG/JPEG/TIFF/GIF readers, below);
#   - AAC: ffmpeg's native encoder (always built, no library).
# Decoding needs no external library except AV1: H.264, HEVC, VP8, VP9, Opus, Vorbis, AAC,
# MP3 and the rest have native decoders; ffmpeg's native AV1 decoder only drives hardware
# decoders, so dav1d (~2 MB) decodes AV1, which YouTube serves to many clients.
# Dropped on purpose: libx265, libvpx and libopus (encoders the code never calls; their
# decoders are native), ffplay, docs/man pages, avdevice, postproc, hardware acceleration,
# fonts/GUI, audio I/O, libxml2 (DASH demuxer), bzip2, xz and every other codec library.
# Kept support libraries: zlib (PNG, compressed MP4/MKV headers), iconv (glibc's; subtitle
# charsets), network + GnuTLS (yt-dlp hands some HLS/DASH downloads over https to ffmpeg).
# All native decoders, demuxers, muxers, parsers and filters stay (uploads may use any
# common container or codec); none of them adds a runtime dependency.
{ ffmpeg-headless, libwebp }:

(ffmpeg-headless.override {
  withHeadlessDeps = false;

  # Programs and libraries (generic.nix asserts: ffmpeg needs avcodec, avfilter,
  # avformat and swresample; ffprobe needs avcodec and avformat).
  buildFfmpeg = true;
  buildFfprobe = true;
  buildFfplay = false;
  buildQtFaststart = false;
  buildAvcodec = true;
  buildAvformat = true;
  buildAvfilter = true;
  buildAvutil = true;
  buildSwresample = true;
  buildSwscale = true;
  buildAvdevice = false;
  buildPostproc = false;

  # Encoders the code calls.
  withX264 = true;
  withMp3lame = true;
  withWebp = true;
  # Decoders without a native implementation.
  withDav1d = true;
  # Explicitly off (the headless variant would enable them).
  withX265 = false;
  withVpx = false;
  withOpus = false;

  # libwebp for encoding only: its PNG/JPEG/TIFF/GIF support serves the cwebp/gif2webp/
  # img2webp tools, which ffmpeg never runs (pkgs/by-name/li/libwebp/package.nix; libwebpmux
  # stays: ffmpeg's animated WebP encoder links it).
  libwebp = libwebp.override {
    pngSupport = false;
    jpegSupport = false;
    tiffSupport = false;
    gifSupport = false;
  };

  # Support libraries.
  withZlib = true;
  withIconv = true;
  withNetwork = true;
  withGnutls = true;

  # Build options that the headless variant would have enabled.
  withSafeBitstreamReader = true;
  withHardcodedTables = true;
  withDocumentation = false;
}).overrideAttrs (_: {
  # generic.nix sets doCheck = canExecute, i.e. `make check` runs FATE. This override is
  # not in the binary cache, so every user builds it: FATE roughly doubles the build time
  # and has broken ffmpeg-headless builds on some builders (timing- and CPU-feature-
  # dependent tests) without saying anything about this feature subset. The binaries are
  # exercised instead by checks.sofathek-nextest (probe, thumbnail, transcode, AV1) and
  # by the container test against the built image.
  doCheck = false;
})
