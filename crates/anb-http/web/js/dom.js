// Small DOM helpers. Elements are built node by node, never parsed from strings, so text that
// users wrote (titles, names, cities) can never become markup.

// `checked` and `selected` stay attributes: they are the defaults a form reset returns to.
const PROPERTIES = new Set(['value', 'disabled', 'hidden']);

/** Creates `<tag>` with attributes, `on*` listeners, properties and children. */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value == null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (PROPERTIES.has(key)) el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

/** Appends children: nodes, strings (as text), arrays; skips null and false. */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replaces every child of `parent`. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

/** A labelled form field: label, control, hint and an error slot tied to the control. */
export function field({ name, label, type = 'text', required = false, hint, ...rest }) {
  const id = `f-${name}`;
  const describedBy = [hint && `${id}-hint`, `${id}-error`].filter(Boolean).join(' ');
  const control = type === 'textarea'
    ? h('textarea', { id, name, required, 'aria-describedby': describedBy, ...rest })
    : h('input', { id, name, type, required, 'aria-describedby': describedBy, ...rest });
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    control,
    hint && h('p', { class: 'hint', id: `${id}-hint` }, hint),
    h('p', { class: 'field-error', id: `${id}-error`, hidden: true }));
}

/** Shows `message` under the field `name` of `form` (and marks the control invalid). */
export function showFieldError(form, name, message) {
  const control = form.elements[name];
  const slot = form.querySelector(`#f-${name}-error`);
  if (!control || !slot) return false;
  control.setAttribute('aria-invalid', 'true');
  slot.textContent = message;
  slot.hidden = false;
  return true;
}

/** Clears every field error of `form` and its form-level message. */
export function clearErrors(form) {
  for (const slot of form.querySelectorAll('.field-error, .form-error')) {
    slot.textContent = '';
    slot.hidden = true;
  }
  for (const control of form.querySelectorAll('[aria-invalid]')) control.removeAttribute('aria-invalid');
}

/** Bytes as a short human size in the page's language ("12,3 MB"). */
export function formatBytes(bytes, lang) {
  const units = ['B', 'KB', 'MB', 'GB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toLocaleString(lang, { maximumFractionDigits: digits })} ${units[unit]}`;
}
