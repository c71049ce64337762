// A player's page (`/p/{id}`): name, city and country, total votes, place in the rankings, and
// their published videos (most voted first, "Cargar más" for the next ones), each linking to
// its page.

import { call, gallery } from '../api.js';
import { h, replace } from '../dom.js';
import { t, votesText } from '../i18n.js';
import { card, more } from './gallery.js';
import { notFound, number, pageStyles } from './pages.js';
import { heading, stopPlayers } from './shared.js';

const PAGE_SIZE = 12;

export async function render(main, params, id) {
  const styled = pageStyles();
  const query = { player: id, sort: 'votes', page: 1, page_size: PAGE_SIZE };
  let player = null;
  let videos = null;
  try {
    [player, videos] = await Promise.all([
      call(`/api/public/players/${encodeURIComponent(id)}`).then(({ data }) => data),
      gallery.list(query),
    ]);
  } catch (error) {
    if (error.status !== 404 && error.status !== 400) throw error;
  }
  await styled;
  if (!player) {
    notFound(main);
    return null;
  }
  const stat = (label, value, cls) => h('div', { class: cls }, h('dt', null, label), h('dd', null, value));
  const list = h('ul', { class: 'grid' }, videos.data.map(card));
  replace(main, h('section', { class: 'player-page', 'data-user-id': player.user_id },
    heading(player.username, t('player.lead', { city: player.city, country: player.country })),
    h('dl', { class: 'stats' },
      stat(t('player.position'), player.position ? t('player.rank', { n: number(player.position) }) : t('player.unranked'), 'rank'),
      stat(t('player.totalVotes'), votesText(player.votes), 'total'),
      stat(t('player.published'), number(player.published_videos), 'count')),
    h('h2', null, t('player.videos')),
    list,
    more(list, query, videos.total ?? videos.data.length)));
  return stopPlayers;
}
