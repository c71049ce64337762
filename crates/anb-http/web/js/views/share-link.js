// A share link's page (`/shared/<token>`): no account needed. The video plays at once; a link
// that expired, was revoked or is not valid says which.

import { sharing } from '../api.js';
import { h, replace } from '../dom.js';
import { errorText, t } from '../i18n.js';
import { heading, playIn, stopPlayers } from './shared.js';

export async function render(main, params, token) {
  let video;
  try {
    video = (await sharing.openLink(token)).data;
  } catch (error) {
    if (error.status === 0) throw error;
    replace(main, h('section', { class: 'narrow shared-link', 'data-error': error.code },
      heading(t('shareLink.unavailable')),
      h('p', { class: 'notice error' }, errorText(error)),
      h('p', null, h('a', { href: '/galeria' }, t('shareLink.toGallery')))));
    return null;
  }
  const box = h('div', { class: 'media' });
  const { username, city, country } = video.player;
  replace(main, h('article', { class: 'card video shared-link', 'data-video-id': video.video_id },
    box,
    h('div', { class: 'body' },
      heading(video.title),
      h('p', { class: 'player' }, username, h('span', { class: 'city' }, ` · ${city}, ${country}`)),
      video.description && h('p', { class: 'description' }, video.description),
      h('p', { class: 'meta' }, t('shareLink.title'), ' · ', t('shareLink.seconds', { count: Math.round(video.duration_seconds ?? 0) })))));
  if (video.playback) playIn(box, video.playback, video.title);
  else replace(box, h('p', { class: 'placeholder' }, t('sharedWithMe.notReady')));
  return stopPlayers;
}
