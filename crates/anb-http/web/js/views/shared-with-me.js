// Compartidos conmigo: the videos other players shared with the signed-in player; pressing one
// fetches its signed playback links and plays it (HLS first, else the MP4).

import { session, sharing } from '../api.js';
import { h, replace } from '../dom.js';
import { errorText, formatDate, t } from '../i18n.js';
import { heading, playIn, stopPlayers } from './shared.js';

function card(item) {
  const box = h('div', { class: 'media' });
  const message = h('p', { class: 'row-message', role: 'alert' });
  const play = h('button', { type: 'button', class: 'play', 'aria-label': t('sharedWithMe.play', { title: item.title }) },
    h('span', { class: 'play-icon', 'aria-hidden': 'true' }, '▶'));
  play.addEventListener('click', async () => {
    play.disabled = true;
    message.textContent = '';
    try {
      const { data } = await sharing.withMeOne(item.video_id);
      if (!data.playback) {
        message.textContent = t('sharedWithMe.notReady');
        play.disabled = false;
        return;
      }
      playIn(box, data.playback, item.title).focus();
    } catch (error) {
      message.textContent = errorText(error);
      play.disabled = false;
    }
  });
  replace(box, play);
  const { username, city, country } = item.player;
  return h('li', { class: 'card video shared', 'data-video-id': item.video_id },
    box,
    h('div', { class: 'body' },
      h('h2', { class: 'card-title' }, item.title),
      h('p', { class: 'player' }, username, h('span', { class: 'city' }, ` · ${city}, ${country}`)),
      item.description && h('p', { class: 'description' }, item.description),
      h('p', { class: 'meta' }, t('sharedWithMe.sharedAt', { date: formatDate(item.shared_at) })),
      message));
}

/** Renders the list; returns what stops its players. */
export async function render(main) {
  if (!session.token) {
    replace(main, heading(t('sharedWithMe.title')),
      h('p', { class: 'notice' }, h('a', { href: '/entrar?next=compartidos' }, t('sharedWithMe.loginFirst'))));
    return null;
  }
  const { data } = await sharing.withMe();
  replace(main, heading(t('sharedWithMe.title'), t('sharedWithMe.lead')),
    data.length
      ? h('ul', { class: 'grid' }, data.map(card))
      : h('p', { class: 'empty' }, t('sharedWithMe.empty')));
  return stopPlayers;
}
