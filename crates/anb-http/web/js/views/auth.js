// Sign up and log in. The contract's errors are shown next to the field that caused them.

import { auth, session } from '../api.js';
import { clearErrors, field, h, replace, showFieldError } from '../dom.js';
import { errorText, t } from '../i18n.js';
import { navigate, toast } from '../shell.js';
import { heading } from './shared.js';

const SIGNUP_FIELDS = ['first_name', 'last_name', 'email', 'password1', 'password2', 'city', 'country'];

/** The field an error belongs to: by its code, else the first field its detail names. */
function fieldOf(error, fields) {
  const byCode = { email_taken: 'email', password_mismatch: 'password2', weak_password: 'password1', invalid_credentials: 'password' };
  if (byCode[error.code] && fields.includes(byCode[error.code])) return byCode[error.code];
  if (error.code === 'validation_error') return fields.find((name) => error.detail?.includes(name)) ?? null;
  return null;
}

/** Shows `error` beside its field, or above the button when it belongs to the whole form. */
function showError(form, error, fields) {
  const message = errorText(error);
  const name = fieldOf(error, fields);
  if (name && showFieldError(form, name, message)) {
    form.elements[name].focus();
    return;
  }
  const slot = form.querySelector('.form-error');
  slot.textContent = message;
  slot.hidden = false;
}

/** Checks required fields in the browser first, with the same messages as the server's. */
function missingFields(form, fields) {
  const missing = fields.filter((name) => !form.elements[name].value.trim());
  for (const name of missing) showFieldError(form, name, t('field.required'));
  if (missing.length) form.elements[missing[0]].focus();
  return missing.length > 0;
}

async function signIn(email, password) {
  const { data } = await auth.login(email, password);
  session.save(data.access_token, data.expires_in);
  try {
    const { data: me } = await auth.me();
    session.save(data.access_token, data.expires_in, me);
  } catch { /* the name is a nicety */ }
}

function busy(form, on) {
  form.querySelector('button[type=submit]').disabled = on;
  form.setAttribute('aria-busy', on ? 'true' : 'false');
}

/**
 * On submit: clears the errors, checks the required `fields`, then runs `send` with the form
 * busy; an API error is shown where it belongs.
 */
export function onSubmit(form, fields, send) {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    if (missingFields(form, fields)) return;
    busy(form, true);
    try {
      await send();
    } catch (error) {
      showError(form, error, fields);
    } finally {
      busy(form, false);
    }
  });
}

const OIDC_ERRORS = ['refused', 'email_not_verified', 'unavailable', 'cancelled'];

/**
 * "Log in with {name}" for each OpenID provider the server offers: a plain link, since the
 * login is a full-page trip to the provider and back. Nothing when there is none.
 */
async function providerLinks() {
  const providers = await auth.providers();
  if (!providers.length) return null;
  return h('div', { class: 'providers' },
    providers.map((provider) => h('a', { class: 'button provider', href: provider.login_url }, t('oidc.login', { name: provider.name }))),
    h('p', { class: 'or' }, t('oidc.or')));
}

/** The log-in screen; `next` in the address says where to go afterwards. */
export async function renderLogin(main, params) {
  const why = params.get('oidc_error');
  const providers = await providerLinks();
  const form = h('form', { class: 'card form', novalidate: true },
    field({ name: 'email', label: t('field.email'), type: 'email', autocomplete: 'email', required: true }),
    field({ name: 'password', label: t('field.password'), type: 'password', autocomplete: 'current-password', required: true }),
    h('p', { class: 'form-error', role: 'alert', hidden: true }),
    h('button', { type: 'submit', class: 'primary' }, t('login.submit')));
  onSubmit(form, ['email', 'password'], async () => {
    await signIn(form.elements.email.value.trim(), form.elements.password.value);
    navigate(params.get('next') || 'mis-videos');
  });
  replace(main, h('section', { class: 'narrow' },
    heading(t('login.title'), t('login.lead')),
    why && h('p', { class: 'notice error', role: 'alert' },
      t(OIDC_ERRORS.includes(why) ? `oidc.error.${why}` : 'oidc.error.other')),
    providers,
    form,
    h('p', null, h('a', { href: '/olvide-contrasena' }, t('login.forgot'))),
    h('p', null, `${t('login.noAccount')} `, h('a', { href: '/registro' }, t('login.signupLink')))));
}

/** The sign-up screen: creates the account, then signs in. */
export async function renderSignup(main) {
  const providers = await providerLinks();
  const form = h('form', { class: 'card form', novalidate: true },
    h('div', { class: 'pair' },
      field({ name: 'first_name', label: t('field.first_name'), autocomplete: 'given-name', required: true }),
      field({ name: 'last_name', label: t('field.last_name'), autocomplete: 'family-name', required: true })),
    field({ name: 'email', label: t('field.email'), type: 'email', autocomplete: 'email', required: true }),
    h('div', { class: 'pair' },
      field({ name: 'password1', label: t('field.password1'), type: 'password', autocomplete: 'new-password', required: true, hint: t('field.password1.hint') }),
      field({ name: 'password2', label: t('field.password2'), type: 'password', autocomplete: 'new-password', required: true })),
    h('div', { class: 'pair' },
      field({ name: 'city', label: t('field.city'), autocomplete: 'address-level2', required: true }),
      field({ name: 'country', label: t('field.country'), autocomplete: 'country-name', required: true })),
    h('p', { class: 'form-error', role: 'alert', hidden: true }),
    h('button', { type: 'submit', class: 'primary' }, t('signup.submit')));
  onSubmit(form, SIGNUP_FIELDS, async () => {
    const body = Object.fromEntries(SIGNUP_FIELDS.map((name) => [name, form.elements[name].value.trim()]));
    body.password1 = form.elements.password1.value;
    body.password2 = form.elements.password2.value;
    const { data } = await auth.signup(body);
    toast(data.message);
    await signIn(body.email, body.password1);
    navigate('mis-videos');
  });
  replace(main, h('section', { class: 'narrow' },
    heading(t('signup.title'), t('signup.lead')),
    providers,
    form,
    h('p', null, `${t('signup.haveAccount')} `, h('a', { href: '/entrar' }, t('signup.loginLink')))));
}

/**
 * A new player back from the OpenID provider: the city and country the provider does not
 * give (and the names, when theirs should not be used). The `anb_oidc_signup` cookie (sent by
 * the browser, unreadable here) says who; when it has run out the login starts over.
 */
export async function renderCompleteProfile(main) {
  const fields = ['first_name', 'last_name', 'city', 'country'];
  const optional = { placeholder: t('complete.fromProvider'), hint: t('complete.optional') };
  const expired = h('p', { class: 'notice error', role: 'alert', hidden: true });
  const form = h('form', { class: 'card form', novalidate: true },
    h('div', { class: 'pair' },
      field({ name: 'first_name', label: t('field.first_name'), autocomplete: 'given-name', ...optional }),
      field({ name: 'last_name', label: t('field.last_name'), autocomplete: 'family-name', ...optional })),
    h('div', { class: 'pair' },
      field({ name: 'city', label: t('field.city'), autocomplete: 'address-level2', required: true }),
      field({ name: 'country', label: t('field.country'), autocomplete: 'country-name', required: true })),
    h('p', { class: 'form-error', role: 'alert', hidden: true }),
    h('button', { type: 'submit', class: 'primary' }, t('complete.submit')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    expired.hidden = true;
    if (missingFields(form, ['city', 'country'])) return;
    const body = {};
    for (const name of fields) {
      const value = form.elements[name].value.trim();
      if (value) body[name] = value;
    }
    busy(form, true);
    try {
      const { data } = await auth.completeOidc(body);
      session.save(data.access_token, data.expires_in);
      try {
        const { data: me } = await auth.me();
        session.save(session.token, data.expires_in, me);
      } catch { /* the name is a nicety */ }
      navigate('mis-videos');
    } catch (error) {
      if (error.status === 401) {
        expired.replaceChildren(t('complete.expired'), ' ');
        const providers = await auth.providers();
        for (const provider of providers) {
          expired.append(h('a', { href: provider.login_url }, t('oidc.login', { name: provider.name })));
        }
        if (!providers.length) expired.append(h('a', { href: '/entrar' }, t('complete.again')));
        expired.hidden = false;
      } else {
        showError(form, error, fields);
      }
    } finally {
      busy(form, false);
    }
  });
  replace(main, h('section', { class: 'narrow' },
    heading(t('complete.title'), t('complete.lead')),
    expired,
    form));
}
