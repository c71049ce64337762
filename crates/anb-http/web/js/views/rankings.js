// Rankings: a podium of the top three (each with their most voted video's thumbnail), then
// every player with a bar of their votes beside the leader's, each a link to their page; the
// cities with votes as a filter; page by page.

import { call, gallery } from '../api.js';
import { h, replace } from '../dom.js';
import { errorText, t, votesText } from '../i18n.js';
import { navigate } from '../shell.js';
import { number, pageStyles } from './pages.js';
import { heading, pageParam } from './shared.js';

const PAGE_SIZE = 20;

const cityLink = (city) => `/rankings${city ? `?${new URLSearchParams({ city })}` : ''}`;

/** The cities with votes (most first) as links, "Todas" first; the current one marked. */
async function cityFilter(city) {
  const list = h('ul', { class: 'cities' });
  const item = (name, label, extra) => h('li', null, h('a', {
    href: cityLink(name), 'aria-current': name.toLowerCase() === city.toLowerCase() ? 'page' : null,
  }, label, extra));
  const nav = h('nav', { class: 'city-filter', 'aria-label': t('rankings.cities') }, list);
  try {
    const { data } = await call('/api/public/cities');
    replace(list, item('', t('rankings.all')),
      data.map((c) => item(c.city, c.city, h('span', { class: 'count' }, ` ${votesText(c.votes)}`))));
  } catch {
    replace(list, item('', t('rankings.all')));
  }
  return nav;
}

/** Previous/next buttons for `total` items in pages of `size`, calling `go(page)`. */
function pager(page, size, total, go) {
  const pages = Math.max(1, Math.ceil(total / size));
  if (pages <= 1) return null;
  return h('nav', { class: 'pager', 'aria-label': t('pager.label') },
    h('button', { type: 'button', disabled: page <= 1, onclick: () => go(page - 1) }, `← ${t('pager.prev')}`),
    h('span', { 'aria-live': 'polite' }, t('pager.status', { page, pages })),
    h('button', { type: 'button', disabled: page >= pages, onclick: () => go(page + 1) }, `${t('pager.next')} →`));
}

/** The top three, each with their most voted video's thumbnail (loaded after, its space kept). */
function podium(rows) {
  return h('ol', { class: 'podium', 'aria-label': t('rankings.podium') }, rows.map((row) => {
    const thumb = h('div', { class: 'thumb' });
    gallery.list({ player: row.user_id, page_size: 1 }).then(({ data: [video] }) => {
      if (video) {
        thumb.append(h('img', { src: video.thumbnail_url, alt: video.title, loading: 'lazy', width: 320, height: 180 }));
      }
    }, () => {});
    return h('li', { class: `place place-${row.position}`, 'data-user-id': row.user_id },
      thumb,
      h('p', { class: 'pos' }, t('rankings.place', { n: row.position })),
      h('p', { class: 'name' }, h('a', { href: `/p/${row.user_id}` }, row.username)),
      h('p', { class: 'meta' }, `${row.city} · ${votesText(row.votes)}`));
  }));
}

/** A bar as long as `votes` is of `leader`'s (decorative: the number is beside it). */
function bar(votes, leader) {
  const fill = h('span', { class: 'fill' });
  fill.style.width = `${leader > 0 ? Math.max(2, (100 * votes) / leader) : 0}%`;
  return h('span', { class: 'bar', 'aria-hidden': 'true' }, fill);
}

function table(rows, leader, city) {
  return h('table', { class: 'rankings' },
    h('caption', { class: 'visually-hidden' }, city ? t('rankings.captionCity', { city }) : t('rankings.caption')),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col' }, t('rankings.position')),
      h('th', { scope: 'col' }, t('rankings.player')),
      h('th', { scope: 'col' }, t('field.city')),
      h('th', { scope: 'col', class: 'num' }, t('rankings.votes')))),
    h('tbody', null, rows.map((row) => h('tr', { class: row.position <= 3 ? `podium-${row.position}` : null, 'data-user-id': row.user_id },
      h('td', { class: 'pos' }, row.position),
      h('th', { scope: 'row' }, h('a', { href: `/p/${row.user_id}` }, row.username)),
      h('td', null, row.city),
      h('td', { class: 'num' }, h('span', { class: 'vote-cell' }, h('span', { class: 'n' }, number(row.votes)), bar(row.votes, leader)))))));
}

/** Renders one page of the rankings for the address's city. */
export async function render(main, params) {
  const city = params.get('city') ?? '';
  const page = pageParam(params);
  const styled = pageStyles();
  const slot = h('div', { class: 'table-slot', 'aria-busy': 'true' }, h('p', { class: 'loading' }, t('loading')));
  const filter = cityFilter(city);
  await styled;
  replace(main, heading(t('rankings.title'), t('rankings.lead')), await filter, slot);
  try {
    const query = { city, page, page_size: PAGE_SIZE };
    const { data, total } = await call('/api/public/players', { query });
    slot.removeAttribute('aria-busy');
    if (!data.length) {
      replace(slot, h('p', { class: 'empty' }, t('rankings.empty')));
      return;
    }
    const leader = page === 1 ? data[0].votes
      : (await call('/api/public/players', { query: { city, page_size: 1 } })).data[0]?.votes ?? data[0].votes;
    replace(slot,
      page === 1 && podium(data.slice(0, 3)),
      table(data, leader, city),
      pager(page, PAGE_SIZE, total ?? data.length, (to) => navigate('rankings', { city, page: to })));
  } catch (error) {
    replace(slot, h('p', { class: 'notice error', role: 'alert' }, errorText(error)));
  }
}
