// The public gallery: cards with thumbnail, player, city and votes, linking to the video's and
// the player's pages; filters (city, search, sort) kept in the address so a link shares them;
// "Cargar más" appends the next page; voting with an optimistic count (the video page's too).

import { gallery, session } from '../api.js';
import { h, replace } from '../dom.js';
import { errorText, t, votesText } from '../i18n.js';
import { navigate, toast } from '../shell.js';
import { heading, loadPlayer, pageParam, stopPlayers } from './shared.js';

const PAGE_SIZE = 12;

function filters(params) {
  const sort = params.get('sort') === 'recent' ? 'recent' : 'votes';
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': t('gallery.filters') },
    h('div', { class: 'field' },
      h('label', { for: 'g-q' }, t('gallery.q')),
      h('input', { id: 'g-q', name: 'q', type: 'search', value: params.get('q') ?? '' })),
    h('div', { class: 'field' },
      h('label', { for: 'g-city' }, t('gallery.city')),
      h('input', { id: 'g-city', name: 'city', value: params.get('city') ?? '', autocomplete: 'address-level2' })),
    h('div', { class: 'field' },
      h('label', { for: 'g-sort' }, t('gallery.sort')),
      h('select', { id: 'g-sort', name: 'sort' },
        h('option', { value: 'votes', selected: sort === 'votes' }, t('gallery.sortVotes')),
        h('option', { value: 'recent', selected: sort === 'recent' }, t('gallery.sortRecent')))),
    h('button', { type: 'submit' }, t('gallery.apply')));
  const go = () => navigate('galeria', {
    q: form.elements.q.value.trim(), city: form.elements.city.value.trim(), sort: form.elements.sort.value,
  });
  form.addEventListener('submit', (event) => { event.preventDefault(); go(); });
  form.elements.sort.addEventListener('change', go);
  return form;
}

/** The thumbnail, which becomes the player when pressed (the video loads only then: HLS, else the MP4). */
export function media(video) {
  const box = h('div', { class: 'media' });
  const play = h('button', {
    type: 'button', class: 'play', 'aria-label': t('gallery.play', { title: video.title }),
    onclick: () => {
      const player = h('video', { poster: video.thumbnail_url, controls: true, playsinline: true, preload: 'metadata' });
      replace(box, player);
      loadPlayer()
        .then(({ play: start }) => start(player, box, { hls: video.hls_url, mp4: video.processed_url, storyboard: video.storyboard_url }))
        .catch(() => { player.src = video.processed_url; });
      player.focus();
    },
  }, h('img', { src: video.thumbnail_url, alt: '', loading: 'lazy', width: 640, height: 360 }),
  h('span', { class: 'play-icon', 'aria-hidden': 'true' }, '▶'));
  return replace(box, play);
}

/** The vote button of `video`: `count` shows its votes, `status` what happened; signed out, a link to log in and come back to `next`. */
export function voteButton(video, count, status, next = 'galeria') {
  // The visible word, then the title for screen readers ("Votar por «…»").
  const label = h('span', null, t('gallery.vote'));
  const button = h('button', { type: 'button', class: 'vote' },
    label, h('span', { class: 'visually-hidden' }, ` ${t('gallery.voteFor', { title: video.title })}`));
  const show = (votes) => { count.textContent = votesText(votes); };
  const say = (text, kind) => { status.textContent = text; status.dataset.kind = kind; };
  const markVoted = () => {
    label.textContent = `✓ ${t('gallery.voted')}`;
    button.classList.add('voted');
    button.disabled = true;
  };
  button.addEventListener('click', async () => {
    if (!session.token) {
      replace(status, h('a', { href: `/entrar?next=${encodeURIComponent(next)}` }, t('gallery.loginToVote')));
      status.dataset.kind = 'error';
      return;
    }
    button.disabled = true;
    show(video.votes + 1);
    say('', '');
    try {
      const { data } = await gallery.vote(video.video_id);
      video.votes = data.total_votes;
      show(video.votes);
      markVoted();
      say(data.message, 'ok');
      toast(data.message);
    } catch (error) {
      show(video.votes);
      say(errorText(error), 'error');
      if (error.code === 'already_voted') markVoted();
      else button.disabled = false;
      if (error.code === 'email_not_verified') session.setVerified(false);
      if (error.status === 401) toast(t('error.session'), 'error');
    }
  });
  return button;
}

/** The player's name, a link to their page. */
export const playerLink = (video) => h('a', { href: `/p/${video.player_id}` }, video.player.username);

export function card(video) {
  const count = h('span', { class: 'votes' }, votesText(video.votes));
  const status = h('p', { class: 'vote-status', 'aria-live': 'polite' });
  return h('li', { class: 'card video', 'data-video-id': video.video_id },
    media(video),
    h('div', { class: 'body' },
      h('h2', null, h('a', { href: `/v/${video.video_id}` }, video.title)),
      h('p', { class: 'player' }, playerLink(video), h('span', { class: 'city' }, ` · ${video.player.city}`)),
      h('div', { class: 'row' }, count, voteButton(video, count, status)),
      status));
}

/** "Cargar más": the next page's cards appended to `list` (the focus goes to the first new one). */
export function more(list, query, total) {
  const button = h('button', { type: 'button', class: 'more' }, t('gallery.more'));
  const status = h('p', { class: 'vote-status', 'aria-live': 'polite' });
  const box = h('div', { class: 'load-more' }, button, status);
  const update = () => { box.hidden = list.children.length >= total; };
  button.addEventListener('click', async () => {
    button.disabled = true;
    status.textContent = '';
    try {
      query.page += 1;
      const { data } = await gallery.list(query);
      const cards = data.map(card);
      list.append(...cards);
      cards[0]?.querySelector('h2 a').focus();
      if (!data.length) total = list.children.length;
    } catch (error) {
      query.page -= 1;
      status.textContent = errorText(error);
      status.dataset.kind = 'error';
    }
    button.disabled = false;
    update();
  });
  update();
  return box;
}

/** Renders the gallery for the address's filters (from its page); returns what stops its players. */
export async function render(main, params) {
  const size = Math.max(1, Math.min(48, Number.parseInt(params.get('page_size'), 10) || PAGE_SIZE));
  const query = {
    city: params.get('city') ?? '', q: params.get('q') ?? '', sort: params.get('sort') ?? '', page: pageParam(params), page_size: size,
  };
  const list = h('ul', { class: 'grid', 'aria-busy': 'true' },
    Array.from({ length: 3 }, () => h('li', { class: 'card video skeleton', 'aria-hidden': 'true' }, h('div', { class: 'media' }))));
  replace(main, heading(t('gallery.title'), t('gallery.lead')), filters(params), list);
  try {
    const { data, total } = await gallery.list(query);
    list.removeAttribute('aria-busy');
    if (!data.length) {
      list.replaceWith(h('p', { class: 'empty' }, t('gallery.empty')));
      return;
    }
    replace(list, data.map(card));
    list.after(more(list, query, (total ?? data.length) - (query.page - 1) * size));
  } catch (error) {
    list.replaceWith(h('p', { class: 'notice error', role: 'alert' }, errorText(error)));
  }
  return stopPlayers;
}
