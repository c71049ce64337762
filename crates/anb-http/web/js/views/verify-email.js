// The link of the verification mail (`/verify-email?token=…`): the token is taken out of the
// address at once (so it does not linger in the history) and posted once; the outcome stays on
// the screen (also when the language changes), with a way to ask for a new link when the link
// no longer works.

import { auth, session } from '../api.js';
import { h, replace } from '../dom.js';
import { errorText, t } from '../i18n.js';
import '../i18n-account.js';
import { navigate } from '../shell.js';
import { resendVerification } from '../verify-banner.js';
import { heading } from './shared.js';

/** The last link's token (in memory only) and its answer: `{ kind: 'ok' | 'invalid' | 'error', text }`. */
let last = null;

/** Posts `token`; when it verified the signed-in player's email, the banner goes. */
async function verify(token) {
  try {
    await auth.verifyEmail(token);
  } catch (error) {
    if (error.code === 'invalid_token' || error.code === 'validation_error') return { kind: 'invalid' };
    return { kind: 'error', text: errorText(error) };
  }
  if (session.token) {
    try {
      const { data } = await auth.me();
      session.setVerified(data.email_verified);
    } catch { /* the banner is a nicety */ }
  }
  return { kind: 'ok' };
}

/** "Enviar un enlace nuevo" (signed in) or the way to log in first. */
function askAgain() {
  if (!session.token) {
    return h('p', null, h('a', { href: '/entrar' }, t('verify.loginToAsk')));
  }
  if (session.verified) return h('p', null, t('verify.already'));
  const status = h('p', { class: 'banner-status', 'aria-live': 'polite' });
  const button = h('button', { type: 'button', class: 'resend' }, t('verify.askAgain'));
  button.addEventListener('click', async () => {
    button.disabled = true;
    status.textContent = '';
    const { text, kind } = await resendVerification();
    status.textContent = text;
    status.dataset.kind = kind;
    button.disabled = false;
  });
  return h('div', { class: 'session-action' }, button, status);
}

export async function render(main, params) {
  const token = params.get('token');
  if (token) {
    history.replaceState(history.state, '', '/verify-email');
    last = { token, outcome: verify(token) };
  }
  const result = last ? await last.outcome : { kind: 'invalid' };
  if (result.kind === 'ok') {
    replace(main, h('section', { class: 'narrow' },
      heading(t('verify.okTitle')),
      h('p', { class: 'notice ok', role: 'status' }, t('verify.okLead')),
      h('p', null, session.token
        ? h('a', { href: '/galeria' }, t('verify.toGallery'))
        : h('a', { href: '/entrar' }, t('verify.login')))));
    return null;
  }
  if (result.kind === 'error') {
    const retry = h('button', { type: 'button' }, t('verify.retry'));
    retry.addEventListener('click', () => {
      last.outcome = verify(last.token);
      navigate('verify-email');
    });
    replace(main, h('section', { class: 'narrow' },
      heading(t('verify.title')),
      h('p', { class: 'notice error', role: 'alert' }, result.text),
      retry));
    return null;
  }
  replace(main, h('section', { class: 'narrow' },
    heading(t('verify.invalidTitle')),
    h('p', { class: 'notice error', role: 'alert' }, t('error.invalid_token')),
    askAgain()));
  return null;
}
