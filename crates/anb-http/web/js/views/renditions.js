// A processed video's conversions (Mis videos): the renditions asked for, each with its status,
// its progress while it is made and a download button once ready (MP4, MP3; the HLS playlist
// as a link), and a form to ask for another. The list is read when the panel is opened and
// followed while a conversion is waiting or being made.

import { call } from '../api.js';
import { h, replace } from '../dom.js';
import { errorText, t } from '../i18n.js';

const POLL_MS = 2000;
const HEIGHTS = [360, 480, 720, 1080];

const renditionsOf = (videoId) => call(`/api/videos/${videoId}/renditions`, { auth: true });
const convert = (videoId, format, height) => call(`/api/videos/${videoId}/renditions`, {
  method: 'POST', auth: true, body: format === 'mp3' ? { format } : { format, height },
});

/** "MP4 720p", "MP3", "HLS ≤ 480p". */
function label(rendition) {
  if (rendition.format === 'mp3') return 'MP3';
  return rendition.format === 'hls' ? `HLS ≤ ${rendition.height}p` : `MP4 ${rendition.height}p`;
}

function item(video, rendition) {
  const state = h('span', { class: 'status', 'data-status': rendition.status }, t(`conversion.${rendition.status}`));
  let detail = null;
  if (rendition.status === 'processing' && rendition.progress) {
    const percent = Math.floor(rendition.progress.percent);
    detail = h('progress', { max: 100, value: percent, 'aria-label': t('conversion.progress', { name: label(rendition), percent }) });
  } else if (rendition.status === 'ready') {
    const name = `${video.title}-${label(rendition).replace(/\W+/g, '-').toLowerCase()}`;
    detail = rendition.format === 'hls'
      ? h('a', { href: rendition.download_url, class: 'button secondary' }, t('conversion.playlist'))
      : h('a', { href: rendition.download_url, download: `${name}.${rendition.format}`, class: 'button secondary' },
        t('conversion.download', { name: label(rendition) }));
  } else if (rendition.status === 'failed') {
    detail = h('span', { class: 'reason' }, rendition.failure_reason);
  }
  return h('li', { class: 'rendition', 'data-format': rendition.format, 'data-status': rendition.status },
    h('strong', null, label(rendition)), ' ', state, ' ', detail);
}

/** The panel of `video` (processed): a closed <details> until the player opens it. */
export function renditionsPanel(video) {
  const list = h('ul', { class: 'renditions' });
  const message = h('p', { class: 'row-message', role: 'status' });
  const format = h('select', { name: 'format', 'aria-label': t('conversion.format') },
    h('option', { value: 'mp4' }, 'MP4'), h('option', { value: 'mp3' }, 'MP3'), h('option', { value: 'hls' }, 'HLS'));
  const height = h('select', { name: 'height', 'aria-label': t('conversion.height') },
    ...HEIGHTS.map((px) => h('option', { value: px, selected: px === 720 }, `${px}p`)));
  format.addEventListener('change', () => { height.disabled = format.value === 'mp3'; });
  const submit = h('button', { type: 'submit', class: 'secondary' }, t('conversion.convert'));
  const form = h('form', { class: 'row convert' }, format, height, submit);
  const panel = h('details', { class: 'conversions' },
    h('summary', null, t('conversion.title')), list, form, message);
  let timer = null;

  async function refresh() {
    clearTimeout(timer);
    if (!panel.isConnected || !panel.open) return;
    try {
      const { data } = await renditionsOf(video.video_id);
      replace(list, ...(data.length ? data.map((r) => item(video, r)) : [h('li', { class: 'empty' }, t('conversion.none'))]));
      if (data.some((r) => r.status === 'pending' || r.status === 'processing')) timer = setTimeout(refresh, POLL_MS);
    } catch (error) {
      message.textContent = errorText(error);
    }
  }

  panel.addEventListener('toggle', refresh);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    submit.disabled = true;
    message.textContent = '';
    try {
      await convert(video.video_id, format.value, Number(height.value));
      message.textContent = t('conversion.asked');
      await refresh();
    } catch (error) {
      message.textContent = errorText(error);
    } finally {
      submit.disabled = false;
    }
  });
  return panel;
}
