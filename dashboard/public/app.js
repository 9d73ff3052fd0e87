// The jobstack web dashboard: plain DOM code over the JSON API in functions/dashboard-api/api.ts.
// No framework and no build step: this file is served as it is.

import { renderPayloadForm } from './enqueue-form.js';
import { startMetrics } from './metrics.js';

const STATES = ['scheduled', 'queued', 'running', 'retrying', 'waiting', 'succeeded', 'dead', 'cancelled'];
/** The states each bulk action applies to (the API's BULK_ACTION_STATES). */
const BULK_STATES = { retry: ['dead'], cancel: ['scheduled', 'queued', 'retrying', 'running', 'waiting'] };
const TERMINAL = new Set(['succeeded', 'dead', 'cancelled']);
const REFRESH_MS = 2000;

/** What the list shows: its filters and the cursors of the pages seen so far (for "first page"). */
const view = {
  state: '',
  type: '',
  queue: '',
  idPrefix: '',
  limit: 25,
  cursor: undefined,
  nextCursor: undefined,
  selected: undefined,
};

const $ = (selector) => document.querySelector(selector);

/** Builds an element; text is always set as text, never as HTML, so record contents cannot inject markup. */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function api(method, path, body) {
  // Actions always go as JSON: the server takes POSTs only as application/json (a cross-site form cannot send that).
  const post = method === 'POST';
  const response = await fetch(path, {
    method,
    headers: post ? { 'content-type': 'application/json' } : {},
    body: post ? JSON.stringify(body ?? {}) : undefined,
  });
  const json = await response.json();
  if (!response.ok) throw new Error(json.error ? `${json.error.name}: ${json.error.message}` : `HTTP ${response.status}`);
  return json;
}

function showStatus(text, isError = false) {
  const status = $('#status');
  status.textContent = text;
  status.className = isError ? 'error' : '';
}

function stateBadge(state) {
  return el('span', { class: `state ${state}`, 'data-state': state }, state);
}

async function refreshOverview() {
  const [stats, { queues: statuses }] = await Promise.all([api('GET', '/api/overview'), api('GET', '/api/queues')]);
  const statusOf = new Map(statuses.map((status) => [status.queue, status]));
  $('#stack').textContent = `stack ${stats.stackName}`;
  $('#updated').textContent = `updated ${new Date(stats.at).toLocaleTimeString()}`;
  const rows = stats.queues.flatMap((queue) => [
    el(
      'tr',
      { 'data-queue': queue.name },
      el('td', {}, queue.name),
      el('td', { 'data-testid': `status-${queue.name}` }, queueStatusCell(statusOf.get(queue.name))),
      el('td', { class: 'num' }, queue.visible),
      el('td', { class: 'num' }, queue.inFlight),
      el('td', { class: 'num' }, queue.delayed),
      el('td', { class: 'num', 'data-testid': `dlq-${queue.name}` }, queue.deadLetter),
      el(
        'td',
        {},
        el('button', { type: 'button', disabled: queue.deadLetter === 0, onclick: () => redrive(queue.name) }, 'Redrive…'),
        statusOf.get(queue.name)?.status === 'paused'
          ? el('button', { type: 'button', 'data-testid': `resume-${queue.name}`, onclick: () => resume(queue.name) }, 'Resume…')
          : el('button', { type: 'button', 'data-testid': `pause-${queue.name}`, onclick: () => pause(queue.name) }, 'Pause…'),
      ),
    ),
    // A prioritized queue's levels under its sums (they share its dead-letter queue).
    ...(queue.levels ?? []).map((level) =>
      el(
        'tr',
        { class: 'level', 'data-queue-level': `${queue.name}:${level.name}` },
        el('td', { class: 'muted' }, `↳ ${level.name}`),
        el('td', { class: 'num' }, level.visible),
        el('td', { class: 'num' }, level.inFlight),
        el('td', { class: 'num' }, level.delayed),
        el('td', {}, ''),
        el('td', {}, ''),
      ),
    ),
  ]);
  $('#queues tbody').replaceChildren(...rows);
  const chips = STATES.map((state) => {
    const count = stats.states[state];
    const shown = count === null ? '–' : `${stats.approximate.includes(state) ? '~' : ''}${count}`;
    return el(
      'button',
      { type: 'button', class: 'chip', 'data-testid': `count-${state}`, onclick: () => filterBy(state) },
      state,
      el('b', {}, shown),
    );
  });
  $('#states').replaceChildren(...chips);
}

/** `paused` (since when, why, whether it outlives a deploy) or `active`, and the event source's state when it differs. */
function queueStatusCell(status) {
  if (!status) return '';
  const sources = Object.values(status.eventSources ?? {});
  const expected = status.status === 'paused' ? 'Disabled' : 'Enabled';
  const source = sources.filter((state) => state !== expected);
  const note = source.length > 0 ? ` (event source ${source.join(', ')})` : '';
  if (status.status !== 'paused') return el('span', { class: 'queue-active' }, `active${note}`);
  const pause = status.pause;
  const since = new Date(pause.pausedAt).toLocaleString();
  const deploy = pause.keepOnDeploy ? 'kept across deploys' : 'until the next deploy';
  return el(
    'span',
    { class: 'queue-paused', title: `${deploy}${pause.reason ? `: ${pause.reason}` : ''}` },
    `paused since ${since}${pause.reason ? ` — ${pause.reason}` : ''} (${deploy})${note}`,
  );
}

/** The list's filters as query parameters (empty ones left out): the list and the bulk actions share them. */
function filterQuery() {
  const query = new URLSearchParams();
  for (const name of ['state', 'type', 'queue', 'idPrefix']) if (view[name]) query.set(name, view[name]);
  return query;
}

/** Counts list requests: a slower answer to an older request (other filters) must not overwrite a newer one. */
let jobsRequest = 0;

async function refreshJobs() {
  const query = filterQuery();
  query.set('limit', String(view.limit));
  if (view.cursor) query.set('cursor', view.cursor);
  const request = ++jobsRequest;
  const page = await api('GET', `/api/jobs?${query}`);
  if (request !== jobsRequest) return;
  view.nextCursor = page.cursor;
  const rows = page.jobs.map((job) =>
    el(
      'tr',
      { class: 'job', 'data-job-id': job.id, onclick: () => select(job.id) },
      el('td', {}, el('code', {}, job.id)),
      el('td', {}, job.priority ? `${job.type} (${job.priority})` : job.type),
      el('td', {}, stateBadge(job.state)),
      el('td', { class: 'num' }, `${job.attempts}/${job.maxAttempts}`),
      el('td', {}, new Date(job.updatedAt).toLocaleString()),
      el('td', { class: 'small' }, job.error ?? ''),
    ),
  );
  if (rows.length === 0) rows.push(el('tr', {}, el('td', { colspan: 6, class: 'muted' }, 'no jobs')));
  $('#jobs tbody').replaceChildren(...rows);
  $('#next-page').disabled = !view.nextCursor;
  $('#first-page').disabled = !view.cursor;
}

/** An error's name and message, then its stack without repeating them (a stack starts with both). */
function errorText(error) {
  const head = `${error.name}: ${error.message}`;
  if (!error.stack) return head;
  return error.stack.startsWith(head) ? error.stack : `${head}\n${error.stack}`;
}

/** A button that opens another job's detail. */
function jobLink(jobId) {
  return el('button', { type: 'button', class: 'link', onclick: () => select(jobId) }, jobId);
}

/** A batch's progress: counts, a bar of the members counted so far, its callbacks and its members. */
async function batchSection(title, batchId) {
  let batch;
  try {
    batch = await api('GET', `/api/batches/${encodeURIComponent(batchId)}`);
  } catch (error) {
    return el('p', { class: 'muted' }, `${title} ${batchId}: ${error.message}`);
  }
  const done = batch.total - batch.pending;
  const callbacks = [batch.onComplete, batch.onSuccess].filter(Boolean);
  return el(
    'div',
    { 'data-testid': 'batch', 'data-batch-id': batch.batchId },
    el('h3', {}, `${title} ${batch.batchId} (${batch.status})`),
    el(
      'p',
      {},
      el('progress', { max: batch.total, value: done }),
      ` ${done} of ${batch.total} ended: ${batch.succeeded} succeeded, ${batch.dead} dead, ${batch.cancelled} cancelled, ${batch.pending} pending`,
    ),
    callbacks.length > 0
      ? el('p', {}, 'callbacks: ', ...callbacks.flatMap((callback) => [jobLink(callback.jobId), ` (${callback.type}) `]))
      : undefined,
    el('p', { class: 'small' }, 'members: ', ...batch.memberIds.slice(0, 50).flatMap((id) => [jobLink(id), ' '])),
  );
}

async function refreshDetail() {
  if (!view.selected) return;
  const { job, payloadSummary, payloadBytes, executionUrl } = await api('GET', `/api/jobs/${encodeURIComponent(view.selected)}`);
  const fields = [
    ['id', el('code', {}, job.id)],
    ['type', job.type],
    ['state', stateBadge(job.state)],
    ['queue', job.queue],
    ['priority', job.priority],
    ['fairness key', job.fairnessKey],
    ['ordering key', job.orderingKey],
    ['attempts', `${job.attempts} of ${job.maxAttempts}`],
    ['created', job.createdAt],
    ['started', job.startedAt],
    ['finished', job.finishedAt],
    ['next attempt', job.nextAttemptAt],
    [
      'progress',
      job.progress
        ? el(
            'span',
            {},
            el('progress', { max: 100, value: job.progress.percent }),
            ` ${job.progress.percent}% ${job.progress.message ?? ''}`,
          )
        : undefined,
    ],
    [
      'execution',
      executionUrl ? el('a', { href: executionUrl, target: '_blank', rel: 'noopener' }, 'Step Functions execution') : undefined,
    ],
    ['cancel requested', job.cancelRequested ? 'yes' : undefined],
    ['parent', job.parentId ? jobLink(job.parentId) : undefined],
    ['enqueued by', job.enqueuedBy ? jobLink(job.enqueuedBy) : undefined],
    ['callback of batch', job.callbackOf ? el('code', {}, job.callbackOf) : undefined],
  ].filter(([, value]) => value !== undefined);
  const actions = el(
    'div',
    { class: 'actions' },
    el(
      'button',
      { type: 'button', 'data-testid': 'retry', disabled: job.state !== 'dead', onclick: () => retry(job.id) },
      'Retry…',
    ),
    el(
      'button',
      {
        type: 'button',
        class: 'danger',
        'data-testid': 'cancel',
        disabled: TERMINAL.has(job.state),
        onclick: () => cancel(job.id),
      },
      'Cancel…',
    ),
    el('button', { type: 'button', onclick: () => select(undefined) }, 'Close'),
  );
  const sections = [
    el('h2', {}, `Job ${job.id}`),
    actions,
    el(
      'dl',
      {},
      fields.flatMap(([label, value]) => [el('dt', {}, label), el('dd', { 'data-field': label }, value)]),
    ),
    el('h3', {}, `Payload (${payloadBytes} bytes)`),
    el('pre', { 'data-testid': 'payload' }, payloadSummary),
  ];
  if (job.result !== undefined)
    sections.push(el('h3', {}, 'Result'), el('pre', { 'data-testid': 'result' }, JSON.stringify(job.result, null, 2)));
  if (job.error) {
    sections.push(
      el('h3', {}, `Error${job.error.retryable ? ' (retryable)' : ''}`),
      el('pre', { 'data-testid': 'error' }, errorText(job.error)),
    );
  }
  if (Array.isArray(job.history) && job.history.length > 0) {
    // Earlier attempt series (before a retry or redrive), newest first, each with the error it ended with.
    const entries = [...job.history].reverse().map((entry) => {
      const { error, ...rest } = entry;
      const summary = Object.entries(rest)
        .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
        .join('  ');
      const failure = error ? `\n${errorText(error)}` : '';
      return el('pre', {}, `${summary}${failure}`);
    });
    sections.push(el('h3', {}, 'Earlier attempt series'), el('div', { 'data-testid': 'history' }, entries));
  }
  // A batch member shows its batch's progress; a waiting (or resumed) parent the progress of its children.
  for (const [title, batchId] of [
    ['Batch', job.batchId],
    ['Children', job.waitingFor],
  ]) {
    if (batchId) sections.push(await batchSection(title, batchId));
  }
  const detail = $('#detail');
  detail.replaceChildren(...sections);
  detail.hidden = false;
}

async function refresh() {
  try {
    await Promise.all([refreshOverview(), refreshJobs(), refreshDetail()]);
  } catch (error) {
    showStatus(error.message, true);
  }
}

function filterBy(state) {
  view.state = state;
  view.cursor = undefined;
  $('#filters [name=state]').value = state;
  filtersChanged();
  void refresh();
}

/** The bulk buttons follow the state filter: each action only for the states it applies to. */
function filtersChanged() {
  $('#bulk-retry').disabled = !BULK_STATES.retry.includes(view.state);
  $('#bulk-cancel').disabled = !BULK_STATES.cancel.includes(view.state);
  $('#bulk-confirm').hidden = true;
}

/**
 * A bulk action in two steps: the API counts the jobs the current filter matches, the page shows that
 * count and asks; only then does it run, on at most that many (the count confirmed is its limit).
 */
async function bulk(action) {
  const box = $('#bulk-confirm');
  const query = filterQuery();
  let preview;
  try {
    preview = await api('GET', `/api/bulk/${action}?${query}`);
  } catch (error) {
    showStatus(error.message, true);
    return;
  }
  const what = Object.entries(preview.filter)
    .map(([name, value]) => `${name} ${value}`)
    .join(', ');
  if (preview.count === 0) {
    box.replaceChildren(
      el('span', { 'data-testid': 'bulk-count', 'data-count': 0 }, `No job matches ${what}: nothing to ${action}.`),
    );
    box.hidden = false;
    return;
  }
  const count = `${preview.count}${preview.more ? '+' : ''}`;
  const note = preview.more ? ` (more match: this takes the first ${preview.count}; run it again for the rest)` : '';
  const confirm = el(
    'button',
    {
      type: 'button',
      class: action === 'cancel' ? 'danger' : undefined,
      'data-testid': 'bulk-confirm-button',
      onclick: async () => {
        box.hidden = true;
        try {
          const body = { ...Object.fromEntries(query), limit: preview.count };
          const result = await api('POST', `/api/bulk/${action}`, body);
          const parts = [`${result.done} done`];
          if (result.requested > 0) parts.push(`${result.requested} asked to stop`);
          parts.push(`${result.skipped.length} skipped (changed state)`, `${result.failed.length} failed`);
          const failures = result.failed.map((failure) => ` ${failure.jobId}: ${failure.error}`).join(';');
          showStatus(`${action} of ${result.matched}: ${parts.join(', ')}${failures}`, result.failed.length > 0);
        } catch (error) {
          showStatus(error.message, true);
        }
        await refresh();
      },
    },
    `${action === 'retry' ? 'Retry' : 'Cancel'} ${count} jobs`,
  );
  box.replaceChildren(
    el(
      'span',
      { 'data-testid': 'bulk-count', 'data-count': preview.count },
      `${action === 'retry' ? 'Retry' : 'Cancel'} ${count} job${preview.count === 1 ? '' : 's'} matching ${what}?${note}`,
    ),
    confirm,
    el('button', { type: 'button', onclick: () => (box.hidden = true) }, 'Back'),
  );
  box.hidden = false;
}

/** The job types and their payload schemas: read once (they change only with a deploy). */
async function loadEnqueueForm() {
  const { jobTypes } = await api('GET', '/api/job-types');
  const typeSelect = $('#enqueue [name=type]');
  typeSelect.replaceChildren(...jobTypes.map((type) => el('option', { value: type.name }, type.name)));
  const byName = new Map(jobTypes.map((type) => [type.name, type]));
  let readPayload = () => ({});
  const draw = () => {
    const type = byName.get(typeSelect.value);
    $('#enqueue-description').textContent = type
      ? `${type.description ?? ''} queue ${type.queue}${type.long ? ', long job' : ''}${type.schemaError ? ` (schema not drawable: ${type.schemaError})` : ''}`
      : 'no job types: the registry has none';
    readPayload = renderPayloadForm($('#enqueue-fields'), type?.payloadSchema, el);
    const result = $('#enqueue-result');
    result.textContent = '';
    result.className = '';
  };
  typeSelect.addEventListener('change', draw);
  draw();
  $('#enqueue').addEventListener('submit', async (event) => {
    event.preventDefault();
    const result = $('#enqueue-result');
    try {
      const delay = String(new FormData(event.target).get('delay') ?? '').trim();
      const body = { type: typeSelect.value, payload: readPayload(), ...(delay ? { delay } : {}) };
      const job = await api('POST', '/api/jobs', body);
      result.className = '';
      result.replaceChildren(
        `enqueued ${job.type}: `,
        el(
          'button',
          { type: 'button', class: 'link', 'data-testid': 'enqueued-job', onclick: () => select(job.jobId) },
          job.jobId,
        ),
        ` (${job.state}${job.created ? '' : ', already existed'})`,
      );
      void refresh();
    } catch (error) {
      result.className = 'error';
      result.textContent = error.message;
    }
  });
}

function select(jobId) {
  view.selected = jobId;
  if (!jobId) $('#detail').hidden = true;
  void refresh();
}

/** Runs an action after the user confirmed it, then shows its outcome and refreshes. */
async function act(question, run) {
  if (!window.confirm(question)) return;
  try {
    const result = await run();
    showStatus(result);
  } catch (error) {
    showStatus(error.message, true);
  }
  await refresh();
}

function retry(jobId) {
  return act(`Retry job ${jobId}? It runs again with a new series of attempts.`, async () => {
    const result = await api('POST', `/api/jobs/${encodeURIComponent(jobId)}/retry`);
    return `retry ${jobId}: ${result.outcome}`;
  });
}

function cancel(jobId) {
  return act(`Cancel job ${jobId}?`, async () => {
    const result = await api('POST', `/api/jobs/${encodeURIComponent(jobId)}/cancel`);
    return `cancel ${jobId}: ${result.outcome}`;
  });
}

function pause(queue) {
  const reason = window.prompt(
    `Pause queue '${queue}': enqueued jobs keep landing and none starts until you resume it. Why (optional)?`,
    '',
  );
  if (reason === null) return;
  const keepOnDeploy = window.confirm(`Keep '${queue}' paused across deploys? (Cancel: the next deploy resumes it.)`);
  return act(`Pause queue '${queue}'${keepOnDeploy ? ', across deploys' : ''}?`, async () => {
    const body = { ...(reason.trim() ? { reason: reason.trim() } : {}), keepOnDeploy };
    const result = await api('POST', `/api/queues/${encodeURIComponent(queue)}/pause`, body);
    return `pause ${queue}: ${result.newlyPaused ? 'paused' : 'was already paused'}`;
  });
}

function resume(queue) {
  return act(`Resume queue '${queue}'? Its backlog starts draining.`, async () => {
    const result = await api('POST', `/api/queues/${encodeURIComponent(queue)}/resume`);
    return `resume ${queue}: ${result.wasPaused ? 'resumed' : 'was not paused'}`;
  });
}

function redrive(queue) {
  const errorName = window.prompt(
    `Redrive dead letters of queue '${queue}'. Only those that died of this error (empty: all):`,
    '',
  );
  if (errorName === null) return;
  return act(`Move dead letters of '${queue}'${errorName ? ` that died of ${errorName}` : ''} back to the queue?`, async () => {
    const result = await api('POST', `/api/queues/${encodeURIComponent(queue)}/redrive`, errorName ? { errorName } : {});
    return `redrive ${queue}: ${result.moved} moved, ${result.discarded} discarded, ${result.leftInPlace} left`;
  });
}

/** What a job type declares, in words (the same words as `jobstack flow`). */
function declaredFlow(job) {
  const seconds = (ms) => `${ms / 1000} s`;
  const scope = (limit) => (limit.perKey ? 'per key' : 'whole type');
  return [
    job.concurrency && `concurrency ${job.concurrency.limit} ${scope(job.concurrency)}`,
    job.rateLimit && `rate ${job.rateLimit.limit}/${seconds(job.rateLimit.perMs)} ${scope(job.rateLimit)}`,
    job.ordering && 'ordered per key',
    job.debounce && `debounce ${seconds(job.debounce.periodMs)}`,
    job.throttle && `throttle ${seconds(job.throttle.periodMs)}`,
    job.priority && `priority ${job.priority}`,
    job.fairness && 'fair per key',
  ]
    .filter(Boolean)
    .join(', ');
}

/** One key's flow state as lines of text (slot holders, rate window, debounce mark, throttle window). */
function flowStateText(state) {
  const lines = [`${state.jobType}, key ${state.key}`];
  if (state.concurrency) {
    lines.push(`concurrency: ${state.concurrency.holders.length} of ${state.concurrency.limit} slots held`);
    for (const holder of state.concurrency.holders) lines.push(`  ${holder.jobId} until ${holder.leaseUntil}`);
  }
  if (state.rateLimit) {
    const { limit, perMs, startsInWindow, nextStartAt } = state.rateLimit;
    lines.push(`rate limit: ${startsInWindow.length} of ${limit} starts in the last ${perMs / 1000} s`);
    if (nextStartAt) lines.push(`  next start possible at ${nextStartAt}`);
  }
  if (state.debounce) {
    const { latest } = state.debounce;
    lines.push(latest ? `debounce: latest job ${latest.jobId} (enqueued ${latest.enqueuedAt})` : 'debounce: nothing pending');
  }
  if (state.throttle) {
    const { window } = state.throttle;
    lines.push(window ? `throttle: window held by ${window.jobId} until ${window.until}` : 'throttle: no open window');
  }
  return lines.join('\n');
}

async function showFlowState(type, key) {
  const out = $('#flow-state');
  try {
    const query = key ? `?key=${encodeURIComponent(key)}` : '';
    out.textContent = flowStateText(await api('GET', `/api/flow/${encodeURIComponent(type)}${query}`));
    out.className = '';
  } catch (error) {
    out.textContent = error.message;
    out.className = 'error';
  }
  out.hidden = false;
}

/** The job types with flow control: read once (they change only with a deploy). */
async function loadFlowControl() {
  const { jobTypes } = await api('GET', '/api/flow');
  const rows = jobTypes.map((job) => {
    const keyInput = el('input', { name: 'key', placeholder: 'key', size: 14, 'aria-label': `key of ${job.jobType}` });
    return el(
      'tr',
      { 'data-type': job.jobType },
      el('td', {}, job.jobType),
      el('td', {}, job.queue),
      el('td', {}, declaredFlow(job)),
      el('td', {}, keyInput),
      el('td', {}, el('button', { type: 'button', onclick: () => showFlowState(job.jobType, keyInput.value.trim()) }, 'State')),
    );
  });
  $('#flow tbody').replaceChildren(
    ...(rows.length > 0 ? rows : [el('tr', {}, el('td', { colspan: 5 }, 'no job type declares flow control'))]),
  );
}

function start() {
  const stateSelect = $('#filters [name=state]');
  for (const state of STATES) stateSelect.append(el('option', { value: state }, state));
  $('#filters').addEventListener('submit', (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    view.state = String(form.get('state') ?? '');
    view.type = String(form.get('type') ?? '').trim();
    view.queue = String(form.get('queue') ?? '').trim();
    view.idPrefix = String(form.get('idPrefix') ?? '').trim();
    filtersChanged();
    view.limit = Number(form.get('limit') ?? 25);
    view.cursor = undefined;
    void refresh();
  });
  $('#open-job').addEventListener('submit', (event) => {
    event.preventDefault();
    const id = String(new FormData(event.target).get('id') ?? '').trim();
    if (id) select(id);
  });
  $('#next-page').addEventListener('click', () => {
    view.cursor = view.nextCursor;
    void refresh();
  });
  $('#first-page').addEventListener('click', () => {
    view.cursor = undefined;
    void refresh();
  });
  void refresh();
  setInterval(refresh, REFRESH_MS);
  $('#bulk-retry').addEventListener('click', () => bulk('retry'));
  $('#bulk-cancel').addEventListener('click', () => bulk('cancel'));
  loadFlowControl().catch((error) => showStatus(`flow control: ${error.message}`, true));
  loadEnqueueForm().catch((error) => showStatus(`job types: ${error.message}`, true));
  startMetrics();
}

start();
