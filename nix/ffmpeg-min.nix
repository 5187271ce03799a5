# ffmpeg-min: ffmpeg + ffprobe with only what SOFATHEK needs.
#
# An override of nixpkgs' `ffmpeg-headless`; every argument below is a formal of
# pkgs/development/libraries/ffmpeg/generic.nix (checked against the stored nixpkgs copy
# e9a47ce3, the closest to the pinned 531670d8 that the index holds). Turning
# `withHeadlessDeps` off flips every optional dependency, documentation and program
# default of generic.nix to false, so what follows is an allow-list: anything not named
# here is disabled.
#
# Kept, and why (see docs/DEPLOYMENT.md, "ffmpeg-min"):
#   - libx264 (H.264 encoder): the universal browser-playable target (MP4 + AAC).
#   - libx265 (HEVC encoder): the contract's HEVC support; HEVC *decoding* is native.
#   - libvpx (VP8/VP9 encoder + decoder): WebM/VP9 output for browsers without H.264.
#   - libmp3lame (MP3 encoder), libopus (Opus encoder), native AAC encoder (always built).
#   - libwebp: WebP thumbnails and animated previews.
#   - zlib: PNG, compressed MP4/MKV headers; iconv: subtitle charset conversion.
#   - network + GnuTLS: yt-dlp hands HLS/DASH fragments over https to ffmpeg.
# All native decoders, demuxers, muxers, parsers and filters stay (uploads may use any
# common container or codec); none of them adds a runtime dependency.
# Dropped: ffplay, docs/man pages, avdevice, postproc, hardware acceleration (VAAPI,
# VDPAU, NVENC/CUDA, Vulkan, OpenCL, AMF), fonts and GUI (fontconfig, freetype, harfbuzz,
# libass, SDL2, X11), audio I/O (ALSA, PulseAudio, JACK), libxml2 (DASH demuxer), bzip2,
# xz and every other optional codec library.
{ ffmpeg-headless }:

ffmpeg-headless.override {
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

  # Codecs.
  withX264 = true;
  withX265 = true;
  withVpx = true;
  withMp3lame = true;
  withOpus = true;
  withWebp = true;

  # Support libraries.
  withZlib = true;
  withIconv = true;
  withNetwork = true;
  withGnutls = true;

  # Build options that the headless variant would have enabled.
  withSafeBitstreamReader = true;
  withHardcodedTables = true;
  withDocumentation = false;
}
