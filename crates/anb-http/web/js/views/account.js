// Mi cuenta: who is signed in, log out here, or on every device (every session of the account).

import { auth, session } from '../api.js';
import { h, replace } from '../dom.js';
import { errorText, t } from '../i18n.js';
import { navigate, toast } from '../shell.js';
import { heading } from './shared.js';

export async function render(main) {
  if (!session.token) {
    replace(main, heading(t('account.title')),
      h('p', { class: 'notice' }, h('a', { href: '/entrar?next=cuenta' }, t('account.loginFirst'))));
    return null;
  }
  const { data: me } = await auth.me();
  session.setVerified(me.email_verified);
  const message = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const button = (id, label, hint, run) => {
    const control = h('button', { type: 'button', id, 'aria-describedby': `${id}-hint`, class: id === 'logout-all' ? 'danger' : null }, label);
    control.addEventListener('click', async () => {
      control.disabled = true;
      message.hidden = true;
      try {
        await run();
      } catch (error) {
        message.textContent = errorText(error);
        message.hidden = false;
        control.disabled = false;
      }
    });
    return h('div', { class: 'session-action' }, control, h('p', { class: 'hint', id: `${id}-hint` }, hint));
  };
  replace(main, h('section', { class: 'narrow account' },
    heading(t('account.title'), t('account.lead')),
    h('p', null, t('account.who', { name: `${me.first_name} ${me.last_name}`, email: me.email })),
    h('section', { class: 'card form', 'aria-labelledby': 'sessions-title' },
      h('h2', { id: 'sessions-title' }, t('account.sessions')),
      button('logout-here', t('account.logout'), t('account.logoutHint'), async () => {
        await auth.logout();
        navigate('galeria');
      }),
      button('logout-all', t('account.logoutAll'), t('account.logoutAllHint'), async () => {
        await auth.logoutAll();
        // After the gallery's route (which hides the last screen's toast) has started.
        window.addEventListener('popstate', () => toast(t('account.loggedOutAll')), { once: true });
        navigate('galeria');
      }),
      message)));
  return null;
}
