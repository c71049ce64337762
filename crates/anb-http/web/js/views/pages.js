// What the pages imported later (rankings, a video's page, a player's page, not found) share:
// their texts, their styles (pages.css, not part of the first load) and the not-found screen.

import '../i18n-pages.js';
import { h, replace } from '../dom.js';
import { t } from '../i18n.js';
import { heading } from './shared.js';

let styles = null;

/** pages.css, added to the page once; resolves when it applies (or failed: the page still works). */
export function pageStyles() {
  styles ??= new Promise((resolve) => {
    const link = h('link', { rel: 'stylesheet', href: new URL('../../pages.css', import.meta.url).href });
    link.addEventListener('load', resolve);
    link.addEventListener('error', resolve);
    document.head.append(link);
  });
  return styles;
}

/** The not-found screen: what happened and the way to the gallery. */
export function notFound(main) {
  replace(main, h('section', { class: 'narrow not-found' },
    heading(t('notFound.title'), t('notFound.lead')),
    h('p', null, h('a', { class: 'button', href: '/galeria' }, t('notFound.toGallery')))));
}

/** "12.345" in the page's language. */
export const number = (n) => n.toLocaleString(document.documentElement.lang);
