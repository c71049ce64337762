// A published video's page (`/v/{id}`): the clip (HLS, else the MP4, on "play"), its title,
// the player (a link to their page), the votes with the gallery's vote button, and "Compartir"
// (the device's share sheet where there is one, else the link copied).

import { call } from '../api.js';
import { h, replace } from '../dom.js';
import { t, votesText } from '../i18n.js';
import { toast } from '../shell.js';
import { media, playerLink, voteButton } from './gallery.js';
import { notFound, pageStyles } from './pages.js';
import { heading, stopPlayers } from './shared.js';

/** Shares `url` with the Web Share API, else copies it (saying so, or showing it to copy by hand). */
async function share(title, url) {
  if (navigator.share) {
    try {
      await navigator.share({ title, url });
      return;
    } catch (error) {
      if (error.name === 'AbortError') return;
    }
  }
  try {
    await navigator.clipboard.writeText(url);
    toast(t('video.copied'));
  } catch {
    toast(t('video.copyFailed', { url }));
  }
}

export async function render(main, params, id) {
  const styled = pageStyles();
  let video = null;
  try {
    video = (await call(`/api/public/videos/${encodeURIComponent(id)}`)).data;
  } catch (error) {
    if (error.status !== 404 && error.status !== 400) throw error;
  }
  await styled;
  if (!video) {
    notFound(main);
    return null;
  }
  const count = h('span', { class: 'votes' }, votesText(video.votes));
  const status = h('p', { class: 'vote-status', 'aria-live': 'polite' });
  const url = `${location.origin}/v/${video.video_id}`;
  replace(main, h('article', { class: 'card video video-page', 'data-video-id': video.video_id },
    media(video),
    h('div', { class: 'body' },
      heading(video.title),
      h('p', { class: 'player' }, `${t('video.by')} `, playerLink(video),
        h('span', { class: 'city' }, ` · ${video.player.city}, ${video.player.country}`)),
      h('div', { class: 'row' }, count,
        h('div', { class: 'actions' },
          voteButton(video, count, status, `v/${video.video_id}`),
          h('button', { type: 'button', class: 'share', onclick: () => share(video.title, url) }, t('video.share')))),
      status)));
  return stopPlayers;
}
