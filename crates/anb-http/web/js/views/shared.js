// Pieces several screens share: headings, the page number, the sign-in prompt, limits from the page,
// the player (imported on the first play, so the first load stays small).

import { h, replace } from '../dom.js';
import { t } from '../i18n.js';

/** The screen's heading and lead paragraph; also sets the document title. */
export function heading(title, lead) {
  document.title = `${title} · ANB Rising Stars`;
  return [h('h1', null, title), lead && h('p', { class: 'lead' }, lead)];
}

/** A positive page number from the address, else 1. */
export function pageParam(params) {
  const page = Number.parseInt(params.get('page') ?? '1', 10);
  return Number.isFinite(page) && page > 0 ? page : 1;
}

let player = null;

/** js/player.js, imported on the first play (it imports hls.js only when the browser needs it). */
export function loadPlayer() {
  player ??= import('../player.js').catch((error) => { player = null; throw error; });
  return player;
}

/**
 * Plays signed `playback` links (`hls_url`, else `mp4_url`; `storyboard_url`) in `box`: a video
 * named `label` replaces what is there, and starts.
 */
export function playIn(box, playback, label) {
  const video = h('video', {
    controls: true, playsinline: true, class: 'player', poster: playback.thumbnail_url, 'aria-label': label,
  });
  replace(box, video);
  loadPlayer()
    .then(({ play }) => play(video, box, { hls: playback.hls_url, mp4: playback.mp4_url, storyboard: playback.storyboard_url }))
    .catch(() => { video.src = playback.mp4_url; });
  return video;
}

/** Stops the players of the screen being left (nothing to do when none was played). */
export function stopPlayers() {
  player?.then((module) => module.stopPlayers()).catch(() => {});
}

/** The upload limit the server announced in the page, in bytes. */
export function maxUploadBytes() {
  return Number(document.querySelector('meta[name="anb-max-upload-bytes"]')?.content) || 100 * 1024 * 1024;
}
