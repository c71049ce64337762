// The app's entry: the navigation bar and the screen of the current route.

import { session } from './api.js';
import { h, replace } from './dom.js';
import { lang, t, toggleLang } from './i18n.js';
import * as authViews from './views/auth.js';
import * as galleryView from './views/gallery.js';
import * as mineView from './views/my-videos.js';
import * as rankingsView from './views/rankings.js';
import { currentRoute, hideToast, navigate } from './shell.js';

const VIEWS = {
  galeria: galleryView.render,
  rankings: rankingsView.render,
  'mis-videos': mineView.render,
  entrar: authViews.renderLogin,
  registro: authViews.renderSignup,
};

const main = document.getElementById('main');
const nav = document.getElementById('nav');
let leaveView = null;

function link(name, label) {
  const current = currentRoute().name === name;
  return h('a', { href: `#/${name}`, 'aria-current': current ? 'page' : null }, label);
}

function renderNav() {
  nav.setAttribute('aria-label', t('nav.label'));
  const signedIn = Boolean(session.token);
  replace(nav,
    link('galeria', t('nav.gallery')),
    link('rankings', t('nav.rankings')),
    signedIn && link('mis-videos', t('nav.mine')),
    !signedIn && link('entrar', t('nav.login')),
    !signedIn && link('registro', t('nav.signup')),
    signedIn && session.name && h('span', { class: 'who' }, session.name),
    signedIn && h('button', {
      type: 'button', class: 'link logout', onclick: () => { session.clear(); navigate('galeria'); },
    }, t('nav.logout')),
    h('button', {
      type: 'button', class: 'link lang', lang: lang() === 'es' ? 'en' : 'es',
      onclick: () => { toggleLang(); route(); },
    }, t('nav.lang'), h('span', { class: 'visually-hidden' }, ` (${t('nav.langName')})`)));
  document.querySelector('.skip').textContent = t('skip');
}

async function route() {
  leaveView?.();
  leaveView = null;
  const { name, params } = currentRoute();
  renderNav();
  hideToast();
  replace(main, h('p', { class: 'loading' }, t('loading')));
  const view = VIEWS[name];
  try {
    leaveView = await view(main, params) ?? null;
  } catch (error) {
    console.error(error);
    replace(main, h('p', { class: 'notice error' }, t('error.generic')));
  }
  if (document.activeElement === document.body || !main.contains(document.activeElement)) {
    main.focus({ preventScroll: true });
  }
}

document.documentElement.lang = lang();
window.addEventListener('hashchange', route);
session.onChange(renderNav);
route();
