// My videos: upload with a real progress bar (bytes sent, cancel), then each video's status
// followed live (uploaded → processing with its progress → processed | failed with its reason)
// without reloading; play (HLS through the signed playback links), publish/unpublish, delete;
// conversions and downloads (renditions.js); sharing (share-dialog.js, imported on first use).

import { call, mediaUrl, session, upload, videos } from '../api.js';
import { clearErrors, field, formatBytes, h, replace, showFieldError } from '../dom.js';
import { errorText, formatDate, lang, t, votesText } from '../i18n.js';
import { navigate, toast } from '../shell.js';
import { renditionsPanel } from './renditions.js';
import { heading, loadPlayer, maxUploadBytes, stopPlayers } from './shared.js';

const POLL_MS = 2000;
const FINAL = new Set(['processed', 'failed']);

/** Object URLs made for this screen, released when it is left. */
const objectUrls = new Set();
async function protectedMedia(path) {
  const url = await mediaUrl(path);
  objectUrls.add(url);
  return url;
}

function uploadForm(onUploaded) {
  const limit = maxUploadBytes();
  const mb = Math.round(limit / (1024 * 1024));
  const bar = h('progress', { id: 'upload-progress', max: 100, value: 0, 'aria-labelledby': 'upload-progress-label' });
  const barText = h('span', { id: 'upload-progress-text' });
  const cancel = h('button', { type: 'button', class: 'secondary', id: 'upload-cancel' }, t('mine.cancel'));
  const progress = h('div', { class: 'progress', hidden: true },
    h('span', { id: 'upload-progress-label', class: 'visually-hidden' }, t('mine.progress')),
    bar, h('div', { class: 'row' }, barText, cancel));
  const submit = h('button', { type: 'submit', class: 'primary' }, t('mine.uploadSubmit'));
  const form = h('form', { class: 'card form upload', novalidate: true, 'aria-labelledby': 'upload-title' },
    h('h2', { id: 'upload-title' }, t('mine.upload')),
    h('div', { class: 'pair' },
      field({ name: 'title', label: t('field.title'), required: true, maxlength: 255 }),
      field({ name: 'tags', label: t('field.tags'), hint: t('field.tags.hint') })),
    field({ name: 'description', label: t('field.description'), type: 'textarea', rows: 2 }),
    field({ name: 'video_file', label: t('field.video_file'), type: 'file', required: true, accept: 'video/mp4,video/quicktime,.mp4,.mov', hint: t('field.video_file.hint', { mb }) }),
    h('div', { class: 'check' },
      h('input', { id: 'f-is_public', name: 'is_public', type: 'checkbox', checked: true }),
      h('label', { for: 'f-is_public' }, t('field.is_public'))),
    h('p', { class: 'form-error', role: 'alert', hidden: true }),
    submit, progress);

  const fail = (name, message) => {
    if (!showFieldError(form, name, message)) {
      const slot = form.querySelector('.form-error');
      slot.textContent = message;
      slot.hidden = false;
    }
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const title = form.elements.title.value.trim();
    const file = form.elements.video_file.files[0];
    if (!title) fail('title', t('field.required'));
    if (!file) fail('video_file', t('field.required'));
    else if (file.size > limit) fail('video_file', t('error.file_too_large', { mb }));
    if (!title || !file || file.size > limit) return;

    const data = new FormData();
    data.set('title', title);
    data.set('description', form.elements.description.value.trim());
    data.set('tags', form.elements.tags.value.trim());
    data.set('is_public', form.elements.is_public.checked ? 'true' : 'false');
    data.set('video_file', file);

    submit.disabled = true;
    progress.hidden = false;
    cancel.hidden = false;
    bar.value = 0;
    const sending = upload(data, (sent, total) => {
      const size = total || file.size;
      const percent = Math.min(100, Math.floor((sent / size) * 100));
      bar.value = percent;
      barText.textContent = t('mine.sent', { percent, sent: formatBytes(sent, lang()), total: formatBytes(size, lang()) });
    });
    cancel.onclick = () => sending.cancel();
    try {
      const reply = await sending.done;
      bar.value = 100;
      barText.textContent = t('mine.uploaded');
      cancel.hidden = true;
      form.reset();
      toast(reply.message);
      onUploaded(reply.video_id);
    } catch (error) {
      progress.hidden = error.code !== 'cancelled';
      cancel.hidden = true;
      if (error.code === 'cancelled') barText.textContent = t('mine.cancelled');
      else if (error.code === 'invalid_file' || error.code === 'file_too_large') fail('video_file', errorText(error, { mb }));
      else if (error.code === 'validation_error') fail(['title', 'description', 'tags', 'video_file'].find((name) => error.detail?.includes(name)) ?? '', errorText(error));
      else if (error.code === 'network') fail('', t('error.upload_interrupted'));
      else fail('', errorText(error));
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

/** "12 s", "3 min": a rough time left. */
function roughly(totalSeconds) {
  const secs = Math.max(1, Math.round(totalSeconds));
  return secs < 60 ? `${secs} s` : `${Math.round(secs / 60)} min`;
}

/**
 * The processing bar: the percent done and the time left when the server reports them
 * (`progress`), indeterminate until then. `show(progress)` updates it in place, so a poll
 * never redraws the row (nor takes the keyboard focus from its buttons).
 */
function processingBar(videoId) {
  const id = `processing-${videoId}`;
  const bar = h('progress', { max: 100, 'aria-labelledby': `${id}-label` });
  const text = h('span', { id: `${id}-text`, class: 'progress-text', hidden: true });
  const box = h('div', { class: 'progress processing' },
    h('span', { id: `${id}-label`, class: 'visually-hidden' }, t('mine.processingProgress')), bar, text);
  const show = (progress) => {
    const percent = typeof progress?.percent === 'number' ? Math.min(100, Math.max(0, Math.floor(progress.percent))) : null;
    if (percent === null) {
      bar.removeAttribute('value');
      bar.removeAttribute('aria-describedby');
      text.hidden = true;
      return;
    }
    const eta = progress.eta_seconds;
    bar.value = percent;
    text.textContent = typeof eta === 'number'
      ? t('mine.processingEta', { percent, eta: roughly(eta) })
      : t('mine.processingPercent', { percent });
    text.hidden = false;
    bar.setAttribute('aria-describedby', text.id);
  };
  return { box, show };
}

/** One of the player's videos; `update(video)` redraws it when the server's answer changed. */
function videoRow(onChanged, onRemoved) {
  const mediaSlot = h('div', { class: 'media' });
  const info = h('div', { class: 'body' });
  const actions = h('div', { class: 'actions' });
  const message = h('p', { class: 'row-message', role: 'alert' });
  const conversions = h('div', { class: 'conversions-slot' });
  const row = h('li', { class: 'card mine' }, mediaSlot, h('div', { class: 'content' }, info, actions, message, conversions));
  let shown = null;
  let reason = null;
  let processing = null;

  const say = (text, kind = 'error') => { message.textContent = text; message.dataset.kind = kind; };

  async function act(button, run) {
    button.disabled = true;
    say('');
    try {
      await run();
    } catch (error) {
      say(errorText(error));
      button.disabled = false;
    }
  }

  async function drawMedia(video) {
    row.classList.remove('playing');
    if (video.status !== 'processed') {
      replace(mediaSlot, h('div', { class: `placeholder status-${video.status}`, 'aria-hidden': 'true' },
        video.status === 'failed' ? '!' : h('span', { class: 'spinner' })));
      return;
    }
    const play = h('button', { type: 'button', class: 'play', 'aria-label': `${t('mine.play')}: ${video.title}` },
      h('img', { alt: '', width: 640, height: 360 }),
      h('span', { class: 'play-icon', 'aria-hidden': 'true' }, '▶'));
    replace(mediaSlot, play);
    protectedMedia(video.thumbnail_url).then((url) => { play.querySelector('img').src = url; }).catch(() => {});
    play.addEventListener('click', async () => {
      play.disabled = true;
      // The signed links (HLS, MP4, storyboard: no bearer header needed); the MP4 as before
      // when they cannot be had, or when the MP4 is on another origin (a presigned S3 URL the
      // page's policy does not let it play).
      let links = {};
      if (video.playback_url) {
        try {
          links = (await call(video.playback_url, { auth: true })).data;
        } catch { /* the MP4 below */ }
      }
      const fallback = () => (video.is_public ? `/api/public/videos/${video.video_id}/stream` : protectedMedia(video.processed_url));
      const mp4 = links.mp4_url && new URL(links.mp4_url, location.href).origin === location.origin ? links.mp4_url : fallback;
      const player = h('video', { controls: true, playsinline: true, class: 'player', poster: play.querySelector('img').src || null });
      replace(mediaSlot, player);
      row.classList.add('playing');
      loadPlayer()
        .then(({ play: start }) => start(player, mediaSlot, { hls: links.hls_url, mp4, storyboard: links.storyboard_url }))
        .catch(() => { if (typeof mp4 === 'string') player.src = mp4; });
      player.focus();
    });
  }

  async function update(video) {
    const { progress, ...rest } = video;
    const key = JSON.stringify(rest);
    if (key === shown) {
      processing?.show(progress);
      return;
    }
    const statusChanged = !shown || JSON.parse(shown).status !== video.status;
    shown = key;
    row.dataset.videoId = video.video_id;
    row.dataset.status = video.status;
    if (statusChanged) {
      drawMedia(video);
      replace(conversions, video.status === 'processed' ? renditionsPanel(video) : null);
    }
    processing = video.status === 'processing' ? processingBar(video.video_id) : null;
    processing?.show(progress);
    if (video.status === 'failed' && reason === null) {
      reason = '';
      videos.detail(video.video_id).then(({ data }) => { reason = data.failure_reason ?? ''; shown = null; update(video); }).catch(() => {});
    }
    replace(info,
      h('h3', null, video.title),
      h('p', { class: 'status', 'data-status': video.status, 'aria-live': 'polite' }, t(`status.${video.status}`)),
      processing?.box,
      video.status === 'failed' && reason && h('p', { class: 'reason' }, t('status.failedReason', { reason })),
      h('p', { class: 'meta' },
        t('mine.uploadedAt', { date: formatDate(video.uploaded_at) }), ' · ', votesText(video.votes, 'mine'), ' · ',
        video.status === 'processed' ? t(video.is_public ? 'mine.public' : 'mine.private') : ''));
    const toggle = video.status === 'processed' && h('button', { type: 'button', class: 'secondary' },
      t(video.is_public ? 'mine.unpublish' : 'mine.publish'));
    if (toggle) {
      toggle.addEventListener('click', () => act(toggle, async () => {
        const { data } = video.is_public ? await videos.unpublish(video.video_id) : await videos.publish(video.video_id);
        toast(t(data.is_public ? 'mine.published' : 'mine.unpublished', { title: video.title }));
        onChanged();
      }));
    }
    const remove = h('button', { type: 'button', class: 'danger' }, t('mine.delete'));
    remove.addEventListener('click', () => {
      if (!window.confirm(t('mine.confirmDelete', { title: video.title }))) return;
      act(remove, async () => {
        await videos.remove(video.video_id);
        toast(t('mine.deleted'));
        onRemoved(video.video_id);
      });
    });
    const share = h('button', { type: 'button', class: 'share', 'aria-haspopup': 'dialog' },
      t('share.open'), h('span', { class: 'visually-hidden' }, `: ${video.title}`));
    share.addEventListener('click', () => act(share, async () => {
      const { openShareDialog } = await import('./share-dialog.js');
      openShareDialog(video, share);
      share.disabled = false;
    }));
    replace(actions, toggle, share, remove);
  }

  return { row, update };
}

/** Renders the screen; returns the function that stops following statuses. */
export async function render(main) {
  if (!session.token) {
    replace(main, heading(t('mine.title')),
      h('p', { class: 'notice' }, h('a', { href: '/entrar?next=mis-videos' }, t('mine.loginFirst'))));
    return null;
  }
  const list = h('ul', { class: 'list', 'aria-labelledby': 'mine-list' });
  const empty = h('p', { class: 'empty', hidden: true }, t('mine.empty'));
  const rows = new Map();
  let timer = null;
  let left = false;

  async function refresh() {
    clearTimeout(timer);
    if (left) return;
    try {
      const { data } = await videos.mine();
      if (left) return;
      const ids = new Set(data.map((video) => video.video_id));
      for (const [id, entry] of rows) {
        if (!ids.has(id)) { entry.row.remove(); rows.delete(id); }
      }
      data.forEach((video, index) => {
        let entry = rows.get(video.video_id);
        if (!entry) {
          entry = videoRow(refresh, (id) => { rows.get(id)?.row.remove(); rows.delete(id); empty.hidden = rows.size > 0; });
          rows.set(video.video_id, entry);
        }
        if (list.children[index] !== entry.row) list.insertBefore(entry.row, list.children[index] ?? null);
        entry.update(video);
      });
      empty.hidden = data.length > 0;
      if (data.some((video) => !FINAL.has(video.status))) timer = setTimeout(refresh, POLL_MS);
    } catch (error) {
      if (left) return;
      if (error.status === 401) {
        toast(t('error.session'), 'error');
        navigate('entrar', { next: 'mis-videos' });
        return;
      }
      timer = setTimeout(refresh, POLL_MS * 2);
    }
  }

  replace(main, heading(t('mine.title')), uploadForm(refresh),
    h('h2', { id: 'mine-list' }, t('mine.list')), empty, list);
  await refresh();
  return () => {
    left = true;
    clearTimeout(timer);
    stopPlayers();
    objectUrls.forEach((url) => URL.revokeObjectURL(url));
    objectUrls.clear();
  };
}
