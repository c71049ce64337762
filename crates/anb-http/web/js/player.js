// The video player: HLS first (the browser's own player where it has one, else hls.js over Media
// Source Extensions, loaded on the first play only), the MP4 otherwise; storyboard tiles shown
// while seeking. The engine in use is in the video's `data-engine` (`native`, `hls.js`, `mp4`).

import { h } from './dom.js';

const HLS_TYPE = 'application/vnd.apple.mpegurl';

/** hls.js (vendor/hls.js: the npm release, unchanged), imported on the first HLS play. */
let hlsModule = null;
function loadHls() {
  hlsModule ??= import('../vendor/hls.js/hls.light.min.mjs')
    .then((module) => module.default)
    .catch((error) => { hlsModule = null; throw error; });
  return hlsModule;
}

/** The hls.js players of the current screen, stopped when it is left. */
const players = new Set();

/** Stops every hls.js player (no more segment downloads for a screen that is gone). */
export function stopPlayers() {
  players.forEach((player) => player.destroy());
  players.clear();
}

function use(video, engine, source) {
  video.dataset.engine = engine;
  video.dataset.source = source;
}

/** The MP4: a URL, or a function that resolves to one (made only when needed). */
async function playMp4(video, mp4) {
  const src = typeof mp4 === 'function' ? await mp4() : mp4;
  use(video, 'mp4', src);
  video.src = src;
  video.play().catch(() => {});
}

async function playWithHlsJs(video, url, mp4) {
  if (!window.MediaSource && !window.ManagedMediaSource) return false;
  let Hls;
  try {
    Hls = await loadHls();
  } catch {
    return false;
  }
  if (!Hls.isSupported() || !video.isConnected) return false;
  // No worker: the page's policy allows no blob: scripts, and short clips do not need one.
  const player = new Hls({ enableWorker: false, capLevelToPlayerSize: true });
  players.add(player);
  player.on(Hls.Events.MANIFEST_PARSED, () => { video.play().catch(() => {}); });
  player.on(Hls.Events.ERROR, (_, data) => {
    if (!data.fatal) return;
    player.destroy();
    players.delete(player);
    video.removeAttribute('src');
    playMp4(video, mp4).catch(() => {});
  });
  use(video, 'hls.js', url);
  player.loadSource(url);
  player.attachMedia(video);
  return true;
}

/**
 * Plays `sources` in `video` (already in the page, inside `box`): `hls` (a master playlist,
 * or null), `mp4` (a URL or a function resolving to one) and `storyboard` (WebVTT cues, or null).
 */
export async function play(video, box, { hls, mp4, storyboard }) {
  if (storyboard) previews(video, box, storyboard).catch(() => {});
  if (hls && video.canPlayType(HLS_TYPE)) {
    use(video, 'native', hls);
    video.addEventListener('error', () => playMp4(video, mp4).catch(() => {}), { once: true });
    video.src = hls;
    video.play().catch(() => {});
    return;
  }
  if (hls && await playWithHlsJs(video, hls, mp4)) return;
  await playMp4(video, mp4);
}

/** "00:01:02.500" or "01:02.500" in seconds. */
function seconds(stamp) {
  return stamp.split(':').reduce((total, part) => total * 60 + Number(part), 0);
}

/** The cues of a storyboard: `{ start, end, image, x, y, w, h }`, image URLs absolute. */
function parseCues(text, base) {
  const cues = [];
  for (const block of text.replace(/\r/g, '').split(/\n{2,}/)) {
    const lines = block.split('\n');
    const at = lines.findIndex((line) => line.includes('-->'));
    if (at < 0 || !lines[at + 1]) continue;
    const [start, end] = lines[at].split('-->').map((part) => seconds(part.trim().split(/\s+/)[0]));
    const image = new URL(lines[at + 1].trim(), base);
    const tile = /^xywh=(\d+),(\d+),(\d+),(\d+)$/.exec(image.hash.slice(1));
    if (!tile) continue;
    image.hash = '';
    const [x, y, w, hgt] = tile.slice(1).map(Number);
    cues.push({ start, end, image: image.href, x, y, w, h: hgt });
  }
  return cues;
}

/** Shows the storyboard tile of the time being sought above the controls, at its place on the bar. */
async function previews(video, box, url) {
  const base = new URL(url, location.href);
  const response = await fetch(base);
  if (!response.ok) return;
  const cues = parseCues(await response.text(), base);
  if (!cues.length || !video.isConnected) return;
  new Image().src = cues[0].image;
  const tile = h('div', { class: 'storyboard', 'aria-hidden': 'true', hidden: true });
  box.append(tile);
  let timer = 0;
  video.addEventListener('seeking', () => {
    const now = video.currentTime;
    const cue = cues.find((c) => now < c.end) ?? cues[cues.length - 1];
    const width = box.clientWidth;
    const fraction = video.duration > 0 ? now / video.duration : 0;
    Object.assign(tile.style, {
      width: `${cue.w}px`,
      height: `${cue.h}px`,
      backgroundImage: `url("${cue.image}")`,
      backgroundPosition: `-${cue.x}px -${cue.y}px`,
      left: `${Math.max(4, Math.min(fraction * width - cue.w / 2, width - cue.w - 4))}px`,
    });
    clearTimeout(timer);
    tile.hidden = false;
  });
  video.addEventListener('seeked', () => {
    clearTimeout(timer);
    timer = setTimeout(() => { tile.hidden = true; }, 800);
  });
}
