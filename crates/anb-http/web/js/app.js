// The app's entry: the session of the refresh cookie (restored before the first screen), the
// navigation bar, the screen of the current path, and links within the app followed without
// loading the page again (the History API).

import { auth, restore, session } from './api.js';
import { h, replace } from './dom.js';
import { lang, t, toggleLang } from './i18n.js';
import * as authViews from './views/auth.js';
import * as galleryView from './views/gallery.js';
import { currentRoute, fromHash, go, hideToast, isAppUrl, navigate, toast } from './shell.js';

/** A screen imported on its first visit (it is not part of the first load). */
const later = (path, name = 'render') => async (...args) => (await import(path))[name](...args);

const VIEWS = {
  galeria: galleryView.render,
  rankings: later('./views/rankings.js'),
  'mis-videos': later('./views/my-videos.js'),
  compartidos: later('./views/shared-with-me.js'),
  cuenta: later('./views/account.js'),
  shared: later('./views/share-link.js'),
  entrar: authViews.renderLogin,
  registro: authViews.renderSignup,
  'complete-profile': authViews.renderCompleteProfile,
  'verify-email': later('./views/verify-email.js'),
  'olvide-contrasena': later('./views/password-reset.js', 'renderForgot'),
  'reset-password': later('./views/password-reset.js', 'renderReset'),
  v: later('./views/video.js'),
  p: later('./views/player-page.js'),
  operador: later('./views/operator.js'),
  'not-found': later('./views/not-found.js'),
};

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const bannerSlot = h('div');
let bannerModule = null;
let leaveView = null;
let notice = null;
let routes = 0;

function link(name, label) {
  const current = currentRoute().name === name;
  return h('a', { href: `/${name}`, 'aria-current': current ? 'page' : null }, label);
}

function renderNav() {
  nav.setAttribute('aria-label', t('nav.label'));
  const signedIn = Boolean(session.token);
  replace(nav,
    link('galeria', t('nav.gallery')),
    link('rankings', t('nav.rankings')),
    signedIn && link('mis-videos', t('nav.mine')),
    signedIn && link('compartidos', t('nav.sharedWithMe')),
    !signedIn && link('entrar', t('nav.login')),
    !signedIn && link('registro', t('nav.signup')),
    signedIn && session.name && h('span', { class: 'who' }, session.name),
    signedIn && link('cuenta', t('nav.account')),
    signedIn && h('button', {
      type: 'button', class: 'link logout',
      onclick: (event) => {
        event.currentTarget.disabled = true;
        auth.logout().catch(() => {}).finally(() => navigate('galeria'));
      },
    }, t('nav.logout')),
    h('button', {
      type: 'button', class: 'link lang', lang: lang() === 'es' ? 'en' : 'es',
      onclick: () => { toggleLang(); route(); },
    }, t('nav.lang'), h('span', { class: 'visually-hidden' }, ` (${t('nav.langName')})`)));
  document.querySelector('.skip').textContent = t('skip');
}

/** Whether this server takes votes only from verified emails (the banner shows only then). */
const VOTES_NEED_VERIFIED_EMAIL =
  document.querySelector('meta[name="anb-votes-need-verified-email"]')?.content === 'true';

/** The banner of an unverified email, imported when first needed. */
function updateBanner() {
  if (VOTES_NEED_VERIFIED_EMAIL && session.token && session.verified === false) {
    bannerModule ??= import('./verify-banner.js');
  }
  bannerModule?.then((module) => module.updateBanner(bannerSlot));
}

/**
 * Draws the current route's screen. Each screen draws into its own box: one still loading when
 * the address changes again (a session that ended half-way, a quick click) draws into a box
 * no longer in the page and is stopped, never over the next screen.
 */
async function route() {
  const mine = ++routes;
  leaveView?.();
  leaveView = null;
  const { name, params, arg } = currentRoute();
  renderNav();
  updateBanner();
  hideToast();
  const screen = h('div', { class: 'screen' }, h('p', { class: 'loading' }, t('loading')));
  replace(main, bannerSlot, screen);
  const view = VIEWS[name];
  try {
    const leave = await view(screen, params, arg) ?? null;
    if (mine !== routes) {
      leave?.();
      return;
    }
    leaveView = leave;
  } catch (error) {
    if (mine !== routes) return;
    console.error(error);
    replace(screen, h('p', { class: 'notice error' }, t('error.generic')));
  }
  if (document.activeElement === document.body || !main.contains(document.activeElement)) {
    main.focus({ preventScroll: true });
  }
  if (notice) toast(notice, 'error');
  notice = null;
}

/** Signed in or out: the navigation changes; a session that could not be renewed ends on the log-in screen. */
function onSession(reason) {
  renderNav();
  updateBanner();
  if (reason !== 'expired') return;
  const { name, arg } = currentRoute();
  if (name === 'entrar' || name === 'shared') return;
  notice = t('error.session');
  navigate('entrar', { next: arg ? `${name}/${arg}` : name });
}

/** Follows a link within the app without loading the page (a plain left click only). */
function onClick(event) {
  const a = event.target.closest?.('a[href]');
  if (!a || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  if (a.target && a.target !== '_self') return;
  if (a.hasAttribute('download') || a.getAttribute('href').startsWith('#')) return;
  const url = new URL(a.href);
  if (!isAppUrl(url)) return;
  event.preventDefault();
  go(`${url.pathname}${url.search}`);
  window.scrollTo(0, 0);
}

document.documentElement.lang = lang();
fromHash();
restore().catch(() => false).finally(() => {
  window.addEventListener('popstate', route);
  // An old `#/…` link followed within the page becomes its path too.
  window.addEventListener('hashchange', () => { if (fromHash()) route(); });
  document.addEventListener('click', onClick);
  session.onChange(onSession);
  route();
});
