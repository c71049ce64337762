// The operator's page (`/operador`): the summary of `GET /api/ops/summary` (queue, workers,
// the last hour's processing, the webhook backlog), refreshed every 5 s. The operators' token
// (`ANB_OPS_TOKEN`) is asked once and kept in this tab only (sessionStorage).

import { field, h, replace } from '../dom.js';
import { addTexts, t } from '../i18n.js';
import { heading } from './shared.js';

addTexts({
  es: {
    'ops.title': 'Operación',
    'ops.lead': 'La cola, los workers, el procesamiento de la última hora y los webhooks.',
    'ops.token': 'Token de operador',
    'ops.show': 'Ver el resumen',
    'ops.refused': 'El token no es válido, o el servicio no tiene uno configurado (ANB_OPS_TOKEN).',
    'ops.queue': 'Cola',
    'ops.ready': 'Listos',
    'ops.scheduled': 'Programados',
    'ops.leased': 'En curso',
    'ops.failed': 'Fallidos',
    'ops.workers': 'Workers activos',
    'ops.worker': 'Worker',
    'ops.seen': 'Último reporte',
    'ops.jobs': 'Trabajos',
    'ops.noWorkers': 'Ningún worker reportó en el último minuto.',
    'ops.lastHour': 'Última hora',
    'ops.processed': 'Procesados',
    'ops.p50': 'p50 (s)',
    'ops.p95': 'p95 (s)',
    'ops.webhooks': 'Webhooks',
    'ops.pending': 'Pendientes',
    'ops.dead': 'Cartas muertas',
    'ops.forget': 'Olvidar el token',
  },
  en: {
    'ops.title': 'Operations',
    'ops.lead': 'The queue, the workers, the last hour of processing and the webhooks.',
    'ops.token': 'Operator token',
    'ops.show': 'Show the summary',
    'ops.refused': 'The token is not valid, or the service has none configured (ANB_OPS_TOKEN).',
    'ops.queue': 'Queue',
    'ops.ready': 'Ready',
    'ops.scheduled': 'Scheduled',
    'ops.leased': 'In flight',
    'ops.failed': 'Failed',
    'ops.workers': 'Workers alive',
    'ops.worker': 'Worker',
    'ops.seen': 'Last report',
    'ops.jobs': 'Jobs',
    'ops.noWorkers': 'No worker reported in the last minute.',
    'ops.lastHour': 'Last hour',
    'ops.processed': 'Processed',
    'ops.p50': 'p50 (s)',
    'ops.p95': 'p95 (s)',
    'ops.webhooks': 'Webhooks',
    'ops.pending': 'Pending',
    'ops.dead': 'Dead letters',
    'ops.forget': 'Forget the token',
  },
});

const TOKEN_KEY = 'anb.opsToken';

/** A definition list of `pairs` ([label, value]). */
function figures(title, pairs) {
  return h('section', { class: 'card' },
    h('h2', null, title),
    h('dl', { class: 'figures' }, pairs.flatMap(([label, value]) => [h('dt', null, label), h('dd', null, String(value ?? '—'))])));
}

function workersTable(workers) {
  if (workers.length === 0) return h('p', null, t('ops.noWorkers'));
  return h('table', null,
    h('thead', null, h('tr', null,
      h('th', { scope: 'col' }, t('ops.worker')),
      h('th', { scope: 'col' }, t('ops.seen')),
      h('th', { scope: 'col' }, t('ops.jobs')))),
    h('tbody', null, workers.map((w) => h('tr', null,
      h('th', { scope: 'row' }, w.name),
      h('td', null, new Date(w.last_seen_at).toLocaleTimeString()),
      h('td', null, w.jobs.join(', ') || '—')))));
}

function summaryView(s) {
  return h('div', { class: 'ops-summary', 'data-at': s.at },
    figures(t('ops.queue'), [
      [t('ops.ready'), s.queue.ready], [t('ops.scheduled'), s.queue.scheduled],
      [t('ops.leased'), s.queue.leased], [t('ops.failed'), s.queue.failed]]),
    h('section', { class: 'card' }, h('h2', null, t('ops.workers')), workersTable(s.workers)),
    figures(t('ops.lastHour'), [
      [t('ops.processed'), s.last_hour.processed], [t('ops.failed'), s.last_hour.failed],
      [t('ops.p50'), s.last_hour.p50_seconds?.toFixed(1)], [t('ops.p95'), s.last_hour.p95_seconds?.toFixed(1)]]),
    figures(t('ops.webhooks'), [[t('ops.pending'), s.webhooks.pending], [t('ops.dead'), s.webhooks.dead]]));
}

async function fetchSummary(token) {
  const response = await fetch('/api/ops/summary', { headers: { authorization: `Bearer ${token}` } });
  if (response.status === 401) return null;
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.json();
}

/** The page: the token form, or the summary refreshed every 5 s until the page is left. */
export async function render(main) {
  const slot = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'card form narrow', novalidate: true },
    field({ name: 'token', label: t('ops.token'), type: 'password', autocomplete: 'off', required: true }),
    h('p', { class: 'form-error', role: 'alert', hidden: true }),
    h('button', { type: 'submit', class: 'primary' }, t('ops.show')));
  let timer = null;
  let left = false;
  const show = async () => {
    if (left) return;
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (!token) { replace(slot, form); return; }
    const summary = await fetchSummary(token).catch(() => undefined);
    if (summary === null) {
      sessionStorage.removeItem(TOKEN_KEY);
      const error = form.querySelector('.form-error');
      error.textContent = t('ops.refused');
      error.hidden = false;
      replace(slot, form);
      return;
    }
    if (summary) {
      replace(slot, summaryView(summary), h('button', {
        type: 'button', class: 'link',
        onclick: () => { sessionStorage.removeItem(TOKEN_KEY); clearTimeout(timer); show(); },
      }, t('ops.forget')));
    }
    if (!left) timer = setTimeout(show, 5000);
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, form.elements.token.value.trim());
    show();
  });
  replace(main, heading(t('ops.title'), t('ops.lead')), slot);
  await show();
  return () => { left = true; clearTimeout(timer); };
}
