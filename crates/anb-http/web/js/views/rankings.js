// Rankings: players by the votes on their videos, filterable by city, page by page.

import { gallery } from '../api.js';
import { h, replace } from '../dom.js';
import { errorText, lang, t } from '../i18n.js';
import { navigate } from '../shell.js';
import { heading, pageParam, pager } from './shared.js';

const PAGE_SIZE = 20;

function cityFilter(city) {
  const form = h('form', { class: 'filters compact', role: 'search', 'aria-label': t('rankings.city') },
    h('div', { class: 'field' },
      h('label', { for: 'r-city' }, t('rankings.city')),
      h('input', { id: 'r-city', name: 'city', value: city, autocomplete: 'address-level2' })),
    h('button', { type: 'submit' }, t('rankings.apply')),
    city && h('button', { type: 'button', class: 'link', onclick: () => navigate('rankings') }, t('rankings.clear')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    navigate('rankings', { city: form.elements.city.value.trim() });
  });
  return form;
}

function table(rows) {
  return h('table', { class: 'rankings' },
    h('caption', { class: 'visually-hidden' }, t('rankings.caption')),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col' }, t('rankings.position')),
      h('th', { scope: 'col' }, t('rankings.player')),
      h('th', { scope: 'col' }, t('field.city')),
      h('th', { scope: 'col', class: 'num' }, t('rankings.votes')))),
    h('tbody', null, rows.map((row) => h('tr', { class: row.position <= 3 ? `podium podium-${row.position}` : null },
      h('td', { class: 'pos' }, row.position),
      h('th', { scope: 'row' }, row.username),
      h('td', null, row.city),
      h('td', { class: 'num' }, row.votes.toLocaleString(lang()))))));
}

/** Renders one page of the rankings for the address's city. */
export async function render(main, params) {
  const city = params.get('city') ?? '';
  const page = pageParam(params);
  const slot = h('div', { class: 'table-slot', 'aria-busy': 'true' }, h('p', { class: 'loading' }, t('loading')));
  replace(main, heading(t('rankings.title'), t('rankings.lead')), cityFilter(city), slot);
  try {
    const { data, total } = await gallery.rankings({ city, page, page_size: PAGE_SIZE });
    slot.removeAttribute('aria-busy');
    if (!data.length) {
      replace(slot, h('p', { class: 'empty' }, t('rankings.empty')));
      return;
    }
    replace(slot, table(data), pager(page, PAGE_SIZE, total ?? data.length, (to) => navigate('rankings', { city, page: to })));
  } catch (error) {
    replace(slot, h('p', { class: 'notice error', role: 'alert' }, errorText(error)));
  }
}
