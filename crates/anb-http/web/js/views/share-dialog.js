// The share dialog of a video in Mis videos (imported on the first "Compartir"): find players by
// name and share with them, see and remove who can watch it, make share links (1, 7 or 30
// days) to copy, see and revoke the live ones. A modal <dialog>: the focus goes in (to the
// search) and back to the button that opened it; Escape closes it.

import { sharing } from '../api.js';
import { h, replace } from '../dom.js';
import { errorText, formatDate, t } from '../i18n.js';

const DEBOUNCE_MS = 300;
const LIFETIMES = [['share.day1', 86400], ['share.days7', 7 * 86400], ['share.days30', 30 * 86400]];

/** An action button: disabled while `run` runs, its error said in the dialog. */
function action(label, hidden, className, run, say) {
  const button = h('button', { type: 'button', class: className },
    label, hidden && h('span', { class: 'visually-hidden' }, ` ${hidden}`));
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await run();
    } catch (error) {
      say(errorText(error), 'error');
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

/** Copies `input`'s text: the Clipboard API, else the text selected for the player to copy. */
async function copy(input, say) {
  try {
    await navigator.clipboard.writeText(input.value);
    say(t('share.copied'));
  } catch {
    input.focus();
    input.select();
    say(t('share.copySelect'));
  }
}

/** Opens the dialog for `video`; the focus returns to `opener` when it closes. */
export function openShareDialog(video, opener) {
  const id = video.video_id;
  const status = h('p', { class: 'dialog-status', role: 'status', 'aria-live': 'polite' });
  const say = (text, kind = 'ok') => { status.textContent = text; status.dataset.kind = kind; };

  // Players: search (debounced), results with a share button each.
  const search = h('input', {
    id: 'share-q', type: 'search', autocomplete: 'off', autofocus: true, maxlength: 100,
    'aria-describedby': 'share-q-hint', 'aria-controls': 'share-results',
  });
  const found = h('p', { class: 'visually-hidden', 'aria-live': 'polite' });
  const results = h('ul', { id: 'share-results', class: 'people results', 'aria-label': t('share.results') });
  const shares = h('ul', { class: 'people shares', 'aria-labelledby': 'share-current' });
  const noShares = h('p', { class: 'empty-line' }, t('share.none'));

  async function loadShares() {
    const { data } = await sharing.shares(id);
    noShares.hidden = data.length > 0;
    replace(shares, data.map((share) => h('li', { 'data-user-id': share.user_id },
      h('span', null, h('strong', null, share.username), ` · ${share.city}`),
      action(t('share.revoke'), t('share.revokeFrom', { name: share.username }), 'danger revoke', async () => {
        await sharing.unshare(id, share.user_id);
        say(t('share.revoked', { name: share.username }));
        await loadShares();
        search.focus();
      }, say))));
  }

  let timer = 0;
  let asked = 0;
  async function find() {
    const q = search.value.trim();
    const mine = ++asked;
    if (!q) {
      replace(results);
      found.textContent = '';
      return;
    }
    try {
      const { data } = await sharing.players(q);
      if (mine !== asked) return;
      found.textContent = data.length === 0 ? t('share.noResults', { q })
        : data.length === 1 ? t('share.found1') : t('share.found', { count: data.length });
      replace(results, data.length === 0
        ? h('li', { class: 'empty-line' }, t('share.noResults', { q }))
        : data.map((player) => h('li', { 'data-user-id': player.user_id },
          h('span', null, h('strong', null, player.username), ` · ${player.city}`),
          action(t('share.grant'), t('share.grantWith', { name: player.username }), 'primary grant', async () => {
            const { data: share } = await sharing.share(id, player.user_id);
            say(t('share.granted', { name: share.username }));
            await loadShares();
          }, say))));
    } catch (error) {
      if (mine === asked) say(errorText(error), 'error');
    }
  }
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(find, DEBOUNCE_MS);
  });
  search.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter') return;
    event.preventDefault();
    clearTimeout(timer);
    find();
  });

  // Links: a lifetime and a button to make one; the live ones with copy and revoke.
  const lifetime = h('select', { id: 'share-lifetime', name: 'lifetime' },
    LIFETIMES.map(([key, seconds]) => h('option', { value: seconds, selected: seconds === 7 * 86400 }, t(key))));
  const links = h('ul', { class: 'links', 'aria-labelledby': 'share-links-title' });
  const noLinks = h('p', { class: 'empty-line' }, t('share.noLinks'));

  async function loadLinks(focusFirst = false) {
    const { data } = await sharing.links(id);
    noLinks.hidden = data.length > 0;
    replace(links, data.map((link) => {
      const date = formatDate(link.expires_at);
      const inputId = `share-link-${link.link_id}`;
      const input = h('input', { id: inputId, type: 'text', readonly: true, value: new URL(link.url, location.href).href });
      input.addEventListener('focus', () => input.select());
      return h('li', { 'data-link-id': link.link_id },
        h('label', { for: inputId }, t('share.linkLabel', { date })),
        input,
        h('div', { class: 'actions' },
          action(t('share.copy'), null, 'copy', () => copy(input, say), say),
          action(t('share.revokeLink'), t('share.revokeLinkOf', { date }), 'danger revoke', async () => {
            await sharing.revokeLink(id, link.link_id);
            say(t('share.linkRevoked'));
            await loadLinks();
            lifetime.focus();
          }, say)));
    }));
    if (focusFirst) links.querySelector('li:first-child button.copy')?.focus();
  }

  const create = action(t('share.createLink'), null, 'primary create-link', async () => {
    await sharing.createLink(id, Number(lifetime.value));
    say(t('share.linkCreated'));
    await loadLinks(true);
  }, say);

  const close = h('button', { type: 'button', class: 'close' }, t('share.close'));
  const dialog = h('dialog', { class: 'share-dialog', 'aria-labelledby': 'share-title', 'data-video-id': id },
    h('div', { class: 'dialog-head' },
      h('h2', { id: 'share-title' }, t('share.title', { title: video.title })),
      close),
    h('div', { class: 'dialog-body' },
      h('section', { 'aria-labelledby': 'share-players' },
        h('h3', { id: 'share-players' }, t('share.players')),
        h('div', { class: 'field' },
          h('label', { for: 'share-q' }, t('share.search')),
          search,
          h('p', { class: 'hint', id: 'share-q-hint' }, t('share.searchHint'))),
        found, results,
        h('h4', { id: 'share-current' }, t('share.current')),
        noShares, shares),
      h('section', { 'aria-labelledby': 'share-links-title' },
        h('h3', { id: 'share-links-title' }, t('share.links')),
        h('p', { class: 'hint' }, t('share.linksLead')),
        h('div', { class: 'link-form' },
          h('div', { class: 'field' }, h('label', { for: 'share-lifetime' }, t('share.lifetime')), lifetime),
          create),
        noLinks, links),
      status));

  close.addEventListener('click', () => dialog.close());
  // A click on the backdrop (outside the box) closes it too.
  dialog.addEventListener('click', (event) => { if (event.target === dialog) dialog.close(); });
  dialog.addEventListener('close', () => {
    clearTimeout(timer);
    dialog.remove();
    if (opener?.isConnected) opener.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  search.focus();
  Promise.all([loadShares(), loadLinks()]).catch((error) => say(errorText(error), 'error'));
  return dialog;
}
