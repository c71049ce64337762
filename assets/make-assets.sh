#!/usr/bin/env bash
# Generates the ANB brand assets in this folder: the logo the transcoder overlays on every
# video (anb-logo.png) and the intro/outro bumpers (anb-intro.mp4, anb-outro.mp4).
# Needs only the ffmpeg CLI (Debian 12: apt-get install ffmpeg) and DejaVu Sans Bold
# (Debian 12: apt-get install fonts-dejavu-core). Safe to run again: it rewrites the same files.
# Usage: assets/make-assets.sh   (from any directory)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FONT=${ANB_FONT:-/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf}

die() { echo "make-assets: $*" >&2; exit 1; }

command -v ffmpeg >/dev/null 2>&1 || die "ffmpeg not found (Debian: apt-get install ffmpeg)"
[ -r "$FONT" ] || die "font $FONT not found (Debian: apt-get install fonts-dejavu-core)"
filters=$(ffmpeg -hide_banner -filters 2>/dev/null)
for f in drawtext geq vignette; do
  grep -qw "$f" <<<"$filters" || die "this ffmpeg has no $f filter (drawtext needs libfreetype)"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/anb-assets.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Brand colours.
ORANGE=(240 108 30) # ball
DARK=(38 24 16)     # seams, rim, lettering outline
DARK_HEX=0x261810
BG_HEX=0x0d1117     # bumper background
ORANGE_HEX=0xf06c1e

# ff ARGS...: quiet, non-interactive ffmpeg; the output is reproducible (no encoder version tags,
# fixed thread count).
ff() { ffmpeg -hide_banner -loglevel error -nostdin -y "$@"; }

# logo SCALE OUT: the logo at SCALE times 240x120, RGBA on a transparent background.
# A basketball (orange disc, dark rim, the two straight seams and the two side arcs, drawn
# antialiased with geq) and bold "ANB" lettering, white with a dark outline, overlapping the ball.
logo() {
  local s=$1 out=$2
  local w=$((240 * s)) h=$((120 * s))
  local cx=$((58 * s)) cy=$((60 * s)) r=$((54 * s))
  local seam_w="1.6*$s" rim_w="3.2*$s"
  local d="hypot(X-$cx,Y-$cy)"
  # Distance to the nearest seam: vertical, horizontal, left arc, right arc.
  local seam="min(min(abs(X-$cx),abs(Y-$cy)),min(abs(hypot(X-($cx-1.25*$r),Y-$cy)-0.86*$r),abs(hypot(X-($cx+1.25*$r),Y-$cy)-0.86*$r)))"
  # How dark a pixel is: 1 on a seam or the rim, 0 on the orange leather, antialiased.
  local dark="max(clip($seam_w+0.5-$seam,0,1),clip($d-($r-$rim_w)+0.5,0,1))"
  local alpha="255*clip($r+0.5-$d,0,1)"
  ch() { echo "st(0,$dark);(1-ld(0))*$1+ld(0)*$2"; }
  ff -f lavfi -i "color=c=black@0:s=${w}x${h},format=rgba,
geq=r='$(ch "${ORANGE[0]}" "${DARK[0]}")':g='$(ch "${ORANGE[1]}" "${DARK[1]}")':b='$(ch "${ORANGE[2]}" "${DARK[2]}")':a='$alpha',
drawtext=fontfile='$FONT':text=ANB:fontsize=$((56 * s)):fontcolor=white:borderw=$((4 * s)):bordercolor=$DARK_HEX:x=$((100 * s)):y=(h-th)/2" \
    -frames:v 1 -pix_fmt rgba -pred none -compression_level 9 -fflags +bitexact -flags +bitexact "$out"
}

# bumper OUT TITLE TITLE_SIZE SUBTITLE: 2.5 s, 1280x720, 30 fps, H.264 yuv420p, no audio, fast start.
# Dark background with a soft vignette, the logo (drawn at 2x) centred, an orange bar sliding in
# under it, the title and subtitle fading in, and the whole fading from and to black.
bumper() {
  local out=$1 title=$2 title_size=$3 subtitle=$4
  ff -f lavfi -i "color=c=$BG_HEX:s=1280x720:r=30:d=2.5" \
    -loop 1 -framerate 30 -t 2.5 -i "$work/logo2.png" \
    -f lavfi -i "color=c=$ORANGE_HEX:s=560x6:r=30:d=2.5" \
    -filter_complex "[0:v]vignette=angle=PI/4[bg];
[bg][1:v]overlay=x=(W-w)/2:y=110:format=auto[l];
[l][2:v]overlay=x='(W-w)/2-(W+w)/2*pow(1-min(t/0.7,1),3)':y=380[b];
[b]drawtext=fontfile='$FONT':text='$title':fontsize=$title_size:fontcolor=white:x=(w-tw)/2:y=420:alpha='clip((t-0.35)/0.5,0,1)',
drawtext=fontfile='$FONT':text='$subtitle':fontsize=34:fontcolor=$ORANGE_HEX:x=(w-tw)/2:y=520:alpha='clip((t-0.7)/0.5,0,1)',
fade=t=in:st=0:d=0.35,fade=t=out:st=2.1:d=0.4,format=yuv420p[v]" \
    -map '[v]' -an -r 30 -t 2.5 -c:v libx264 -preset slow -crf 28 -threads 2 -pix_fmt yuv420p \
    -movflags +faststart -fflags +bitexact -flags:v +bitexact "$out"
}

logo 1 "$work/anb-logo.png"
logo 2 "$work/logo2.png"
bumper "$work/anb-intro.mp4" "ANB Rising Stars" 72 "Showcase de talento"
bumper "$work/anb-outro.mp4" "Vota por tu favorito" 64 "anb.com.co"

# Move into place only when everything was made, so a failed run leaves the old files.
for f in anb-logo.png anb-intro.mp4 anb-outro.mp4; do
  mv -f "$work/$f" "$here/$f"
  echo "wrote $here/$f ($(stat -c %s "$here/$f") bytes)"
done
