// A forgotten password: "¿Olvidaste tu contraseña?" asks for a link by email
// (`/olvide-contrasena`), and the link of that mail (`/reset-password?token=…`) sets a new
// one. The token is taken out of the address at once (kept in memory for the form); a new
// password ends every session of the account, so the player logs in again.

import { auth, session } from '../api.js';
import { field, h, replace } from '../dom.js';
import { t } from '../i18n.js';
import '../i18n-account.js';
import { navigate, toast } from '../shell.js';
import { onSubmit } from './auth.js';
import { heading } from './shared.js';

/** The reset link's token, in memory only once out of the address. */
let resetToken = null;

/** The screen asking for a reset link: the same neutral answer whether or not the account exists. */
export async function renderForgot(main) {
  const form = h('form', { class: 'card form', novalidate: true },
    field({ name: 'email', label: t('field.email'), type: 'email', autocomplete: 'email', required: true }),
    h('p', { class: 'form-error', role: 'alert', hidden: true }),
    h('button', { type: 'submit', class: 'primary' }, t('forgot.submit')));
  const section = h('section', { class: 'narrow' },
    heading(t('forgot.title'), t('forgot.lead')),
    form,
    h('p', null, h('a', { href: '/entrar' }, t('forgot.back'))));
  onSubmit(form, ['email'], async () => {
    await auth.requestReset(form.elements.email.value.trim());
    const sent = h('p', { class: 'notice ok', role: 'status', tabindex: '-1' }, t('forgot.sent'));
    form.replaceWith(sent);
    sent.focus();
  });
  replace(main, section);
  return null;
}

/** The link no longer works (or was never complete): say so, with the way to ask again. */
function invalidLink() {
  return h('span', null, `${t('error.invalid_token')} `, h('a', { href: '/olvide-contrasena' }, t('reset.askAgain')));
}

/** The screen of the reset link: the new password twice, its errors beside their fields. */
export async function renderReset(main, params) {
  const given = params.get('token');
  if (given) {
    history.replaceState(history.state, '', '/reset-password');
    resetToken = given;
  }
  if (!resetToken) {
    replace(main, h('section', { class: 'narrow' },
      heading(t('reset.title')),
      h('p', { class: 'notice error', role: 'alert' }, invalidLink())));
    return null;
  }
  const form = h('form', { class: 'card form', novalidate: true },
    field({ name: 'password1', label: t('field.newPassword1'), type: 'password', autocomplete: 'new-password', required: true, hint: t('field.password1.hint') }),
    field({ name: 'password2', label: t('field.newPassword2'), type: 'password', autocomplete: 'new-password', required: true }),
    h('p', { class: 'form-error', role: 'alert', hidden: true }),
    h('button', { type: 'submit', class: 'primary' }, t('reset.submit')));
  onSubmit(form, ['password1', 'password2'], async () => {
    try {
      await auth.confirmReset(resetToken, form.elements.password1.value, form.elements.password2.value);
    } catch (error) {
      if (error.code !== 'invalid_token') throw error;
      const slot = form.querySelector('.form-error');
      replace(slot, invalidLink());
      slot.hidden = false;
      return;
    }
    resetToken = null;
    // Every session of the account ended: this page's too (and its cookie goes).
    if (session.token) await auth.logout().catch(() => {});
    // After the log-in screen's route (which hides the last screen's toast) has started.
    window.addEventListener('popstate', () => toast(t('reset.done')), { once: true });
    navigate('entrar');
  });
  replace(main, h('section', { class: 'narrow' },
    heading(t('reset.title'), t('reset.lead')),
    form));
  return null;
}
