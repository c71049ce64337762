// The notice at the top of every screen while the signed-in player's email is not verified
// (the server may refuse their votes until it is): "Verifica tu correo para votar", with a
// button mailing a new link. What `/api/auth/me` said is kept in the session: no request per
// screen. Imported by app.js the first time it is needed (not part of the first load).

import { auth, session } from './api.js';
import { h, replace } from './dom.js';
import { errorText, t } from './i18n.js';
import './i18n-account.js';
import { toast } from './shell.js';

const box = h('section', { class: 'notice verify-banner', 'aria-labelledby': 'verify-banner-title', hidden: true });

/**
 * Mails the signed-in player a new verification link. Resolves to what to tell them:
 * `{ text, kind }` (`ok` or `error`, the contract's message for a 429) and `verified` when the
 * email turned out to be verified already (in another tab, say).
 */
export async function resendVerification() {
  try {
    await auth.sendVerification();
  } catch (error) {
    return { text: errorText(error), kind: 'error', verified: false };
  }
  try {
    const { data } = await auth.me();
    session.setVerified(data.email_verified);
    if (data.email_verified) return { text: t('verify.already'), kind: 'ok', verified: true };
  } catch { /* the mail is on its way all the same */ }
  return { text: t('verify.sent'), kind: 'ok', verified: false };
}

/**
 * Draws the banner into `slot` (app.js's, above each screen) in the current language when
 * signed in and unverified; hides it otherwise.
 */
export function updateBanner(slot) {
  if (box.parentNode !== slot) slot.append(box);
  const show = Boolean(session.token) && session.verified === false;
  box.hidden = !show;
  if (!show) {
    box.replaceChildren();
    return;
  }
  const status = h('p', { class: 'banner-status', 'aria-live': 'polite' });
  const button = h('button', { type: 'button', class: 'resend' }, t('verify.resend'));
  button.addEventListener('click', async () => {
    button.disabled = true;
    status.textContent = '';
    const { text, kind, verified } = await resendVerification();
    if (verified) {
      toast(text);
      return;
    }
    status.textContent = text;
    status.dataset.kind = kind;
    button.disabled = false;
  });
  replace(box,
    h('div', null,
      h('h2', { id: 'verify-banner-title' }, t('verify.bannerTitle')),
      h('p', null, t('verify.bannerLead'))),
    button,
    status);
}
