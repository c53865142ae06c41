// The dashboard: figures, charts, workers and functions from the live feed (GET /events, Server-Sent Events,
// one event a second from the server); one page of GET /tasks, refreshed every 2 s while the tab is visible;
// and the task the user opened (GET /result, GET /output while it runs, POST /cancel).
(function () {
  'use strict';

  const HISTORY_SECONDS = 15 * 60;
  const PAGE_SIZE = 50;
  const TABLE_REFRESH_MILLIS = 2000;
  const TASK_REFRESH_MILLIS = 1000;
  const KEY_ITEM = 'faas-api-key';
  const TERMINAL = ['COMPLETED', 'FAILED'];

  const $ = (id) => document.getElementById(id);

  // ---- the API key: asked once, kept in sessionStorage, sent on every call -------------------------------

  let key = sessionStorage.getItem(KEY_ITEM) || '';
  let tableTimer = null;

  class Unauthorized extends Error {}

  async function api(path, options) {
    const headers = key ? {Authorization: 'Bearer ' + key} : {};
    const response = await fetch(path, Object.assign({}, options, {headers}));
    if (response.status === 401) {
      forgetKey('that key was refused');
      throw new Unauthorized();
    }
    return response;
  }

  function askKey(problem) {
    $('main').hidden = true;
    $('key-form').hidden = false;
    $('key-problem').textContent = problem || '';
    $('key-input').focus();
  }

  function forgetKey(problem) {
    key = '';
    sessionStorage.removeItem(KEY_ITEM);
    feed.close();
    clearInterval(tableTimer);
    askKey(problem);
  }

  $('key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    key = $('key-input').value;
    sessionStorage.setItem(KEY_ITEM, key);
    $('key-form').hidden = true;
    $('main').hidden = false;
    fitCharts();
    connect();
  });

  // ---- charts: uPlot, history kept in the page -------------------------------------------------------------

  const history = {at: [], completed: [], failed: [], p50: [], p99: []};

  // spanGaps: a second without a latency figure is one where no dispatcher flushed its histograms (they do
  // once a second, unaligned with the feed), not a second without tasks.
  function chart(element, series, spanGaps) {
    const opts = {
      width: Math.max(300, element.clientWidth), height: 220,
      scales: {x: {time: true}, y: {range: (u, min, max) => [0, Math.max(1, max * 1.1)]}},
      axes: [{}, {size: 60}],
      series: [{}].concat(series.map(([label, stroke]) => ({label, stroke, width: 2, spanGaps}))),
    };
    return new uPlot(opts, [[], ...series.map(() => [])], element);
  }

  const charts = {
    throughput: chart($('throughput-chart'), [['completed/s', '#237a57'], ['failed/s', '#b3261e']], false),
    latency: chart($('latency-chart'), [['p50', '#1f5fbf'], ['p99', '#d9822b']], true),
  };

  function fitCharts() {
    for (const [name, c] of Object.entries(charts)) {
      c.setSize({width: Math.max(300, $(name + '-chart').clientWidth), height: 220});
    }
  }

  window.addEventListener('resize', fitCharts);

  function record(event) {
    const ms = (s) => (s == null ? null : s * 1000);
    history.at.push(event.at);
    history.completed.push(event.rates.completed);
    history.failed.push(event.rates.failed);
    history.p50.push(ms(event.latency.p50));
    history.p99.push(ms(event.latency.p99));
    while (history.at.length && history.at[0] < event.at - HISTORY_SECONDS) {
      Object.values(history).forEach((a) => a.shift());
    }
    charts.throughput.setData([history.at, history.completed, history.failed]);
    charts.latency.setData([history.at, history.p50, history.p99]);
  }

  // ---- the live feed ---------------------------------------------------------------------------------------

  const functionNames = new Map();

  const feed = {
    source: null,
    open() {
      this.close();
      const url = '/events' + (key ? '?key=' + encodeURIComponent(key) : '');
      this.source = new EventSource(url);
      this.source.onmessage = (e) => show(JSON.parse(e.data));
      this.source.onopen = () => { $('feed-state').textContent = 'live'; };
      this.source.onerror = () => {
        $('feed-state').textContent = 'feed lost, reconnecting…';
        if (this.source && this.source.readyState === EventSource.CLOSED) {
          setTimeout(() => { if (this.source && this.source.readyState === EventSource.CLOSED) this.open(); }, 3000);
        }
      };
    },
    close() {
      if (this.source) {
        this.source.close();
        this.source = null;
      }
    },
  };

  function setText(id, text) {
    const el = $(id);
    if (el.textContent !== text) el.textContent = text;
  }

  const rate = (r) => (r < 10 ? r.toFixed(1) : Math.round(r).toString());
  const duration = (s) => (s == null ? '–' : s < 1 ? (s * 1000).toFixed(s < 0.01 ? 2 : 1) + ' ms' : s.toFixed(2) + ' s');

  function show(event) {
    const health = $('health');
    if (event.health.redis !== 'ok') {
      health.className = 'badge down';
      health.textContent = 'Redis unavailable';
      return;
    }
    const dispatchers = event.health.dispatchers;
    health.className = 'badge ' + (dispatchers.length ? 'ok' : 'down');
    health.textContent = 'Redis ok · ' + (dispatchers.length ? 'dispatchers: ' + dispatchers.join(', ') : 'no dispatcher');
    setText('completed-total', String(event.totals.completed));
    setText('failed-total', String(event.totals.failed));
    setText('queue-depth', String(event.totals.queued));
    setText('in-flight', String(event.totals.in_flight));
    if (event.rates) {
      setText('rate-completed', rate(event.rates.completed));
      setText('rate-failed', rate(event.rates.failed));
      const ended = event.rates.completed + event.rates.failed;
      if (event.latency.p50 != null || ended === 0) { // else keep the last figure until the next flush
        setText('latency-p50', duration(event.latency.p50));
        setText('latency-p99', duration(event.latency.p99));
      }
      record(event);
    }
    showWorkers(event.workers);
    showFunctions(event.functions);
  }

  function cells(row, values) {
    while (row.cells.length < values.length) row.insertCell();
    values.forEach((v, i) => { if (row.cells[i].textContent !== v) row.cells[i].textContent = v; });
  }

  function fill(tbody, items, testId, values) {
    while (tbody.rows.length > items.length) tbody.deleteRow(-1);
    items.forEach((item, i) => {
      const row = tbody.rows[i] || tbody.insertRow();
      if (testId) row.dataset.testid = testId;
      cells(row, values(item));
    });
  }

  function showWorkers(workers) {
    fill($('workers'), workers, 'worker-row', (w) => [w.id, w.dispatcher, w.mode, String(w.slots), String(w.busy),
      w.heartbeat_age == null ? '–' : w.heartbeat_age.toFixed(1) + ' s ago']);
  }

  function showFunctions(functions) {
    functions.forEach((f) => functionNames.set(f.function_id, f.name));
    fill($('functions'), functions, null, (f) => [f.name, String(f.calls), String(f.failures),
      duration(f.mean_run), duration(f.p99_run)]);
  }

  // ---- the task table: one page of /tasks --------------------------------------------------------------------

  const table = {status: '', cursors: [null], next: null, loading: false, again: false};

  const time = (s) => (s == null ? '–' : new Date(s * 1000).toLocaleTimeString());

  async function loadTasks() {
    if (table.loading) {
      table.again = true; // the filter or page changed meanwhile: load once more when this one is back
      return;
    }
    table.loading = true;
    try {
      const params = new URLSearchParams({limit: PAGE_SIZE});
      if (table.status) params.set('status', table.status);
      const cursor = table.cursors[table.cursors.length - 1];
      if (cursor) params.set('cursor', cursor);
      const response = await api('/tasks?' + params);
      if (!response.ok) return;
      const page = await response.json();
      showTasks(page.tasks);
      table.next = page.next_cursor;
      $('page-next').disabled = !table.next;
      $('page-previous').disabled = table.cursors.length === 1;
      $('page-number').textContent = 'page ' + table.cursors.length;
    } catch (e) {
      if (!(e instanceof Unauthorized)) $('feed-state').textContent = 'cannot reach the API';
    } finally {
      table.loading = false;
      if (table.again) {
        table.again = false;
        loadTasks();
      }
    }
  }

  function showTasks(tasks) {
    const tbody = $('tasks');
    fill(tbody, tasks, 'task-row', (t) => {
      const run = t.started_at == null ? null : (t.finished_at == null ? Date.now() / 1000 : t.finished_at) - t.started_at;
      return [t.task_id.slice(0, 8), functionNames.get(t.function_id) || t.function_id.slice(0, 8), t.status,
        time(t.created_at), duration(run), t.worker || '–', String(t.attempts)];
    });
    tasks.forEach((t, i) => {
      const row = tbody.rows[i];
      row.dataset.taskId = t.task_id;
      row.cells[2].className = 'status-' + t.status;
      row.classList.toggle('open', t.task_id === view.id);
    });
  }

  function reloadFromFirstPage() {
    table.cursors = [null];
    loadTasks();
  }

  $('status-filter').addEventListener('change', (e) => {
    table.status = e.target.value;
    reloadFromFirstPage();
  });
  $('page-next').addEventListener('click', () => {
    if (table.next) {
      table.cursors.push(table.next);
      loadTasks();
    }
  });
  $('page-previous').addEventListener('click', () => {
    if (table.cursors.length > 1) {
      table.cursors.pop();
      loadTasks();
    }
  });
  $('tasks').addEventListener('click', (e) => {
    const row = e.target.closest('tr');
    if (row && row.dataset.taskId) openTask(row.dataset.taskId);
  });

  // ---- one task: /result, its output while it runs (/output), cancel --------------------------------------

  const view = {id: null, timer: null, outputRoute: true};

  function openTask(id) {
    view.id = id;
    clearTimeout(view.timer);
    $('task-view').hidden = false;
    $('task-id').textContent = id;
    ['task-error', 'task-stdout', 'task-stderr'].forEach((p) => { $(p).textContent = ''; });
    $('task-fields').replaceChildren();
    $('cancel-task').hidden = true;
    document.querySelectorAll('#tasks tr').forEach((r) => r.classList.toggle('open', r.dataset.taskId === id));
    refreshTask(true);
  }

  async function refreshTask(full) {
    const id = view.id;
    try {
      // While it runs, /output (status and output, at most a second old) is enough; /result once at the end.
      const live = !full && view.outputRoute;
      let response = await api((live ? '/output/' : '/result/') + id);
      if (live && response.status === 404 && (await response.clone().text()).includes('no such route')) {
        view.outputRoute = false; // a platform without live output: /result it is
        response = await api('/result/' + id);
      }
      if (id !== view.id) return;
      if (!response.ok) {
        $('task-fields').replaceChildren(field('status', 'not found (it may have expired)'));
        return;
      }
      const task = await response.json();
      if (id !== view.id) return;
      const terminal = TERMINAL.includes(task.status);
      if (live && terminal) return refreshTask(true);
      showTask(task, live);
      if (!terminal) view.timer = setTimeout(() => refreshTask(false), TASK_REFRESH_MILLIS);
    } catch (e) {
      if (!(e instanceof Unauthorized) && id === view.id) {
        view.timer = setTimeout(() => refreshTask(false), TASK_REFRESH_MILLIS);
      }
    }
  }

  function field(name, value, id) {
    const dt = document.createElement('dt');
    dt.textContent = name;
    const dd = document.createElement('dd');
    dd.textContent = value;
    if (id) dd.id = id;
    const frag = document.createDocumentFragment();
    frag.append(dt, dd);
    return frag;
  }

  function showTask(task, live) {
    const terminal = TERMINAL.includes(task.status);
    if (!live) {
      const since = (a, b) => (a == null || b == null ? '–' : duration(b - a));
      $('task-fields').replaceChildren(
        field('status', task.status + (task.cancelled ? ' (cancelled)' : ''), 'task-status'),
        field('worker', task.worker || '–'),
        field('attempts', String(task.attempts)),
        field('created', time(task.created_at)),
        field('started', time(task.started_at)),
        field('finished', time(task.finished_at)),
        field('queue wait', since(task.created_at, task.started_at)),
        field('run time', since(task.started_at, task.finished_at)),
        field('output', task.output_truncated ? 'truncated to the last part' : ''));
      $('task-error').textContent = task.error || '';
    } else {
      setText('task-status', task.status);
    }
    if ('stdout' in task) {
      setText('task-stdout', task.stdout);
      setText('task-stderr', task.stderr);
    }
    $('cancel-task').hidden = terminal;
  }

  $('cancel-task').addEventListener('click', async () => {
    const id = view.id;
    $('cancel-task').disabled = true;
    try {
      await api('/cancel/' + id, {method: 'POST'});
    } catch (e) {
      // refused key: the form is back; anything else shows in the task's status below
    } finally {
      $('cancel-task').disabled = false;
    }
    if (id === view.id) {
      clearTimeout(view.timer);
      refreshTask(true);
    }
  });

  $('task-close').addEventListener('click', () => {
    view.id = null;
    clearTimeout(view.timer);
    $('task-view').hidden = true;
  });

  // ---- start ---------------------------------------------------------------------------------------------------

  function connect() {
    feed.open();
    loadTasks();
    clearInterval(tableTimer);
    tableTimer = setInterval(() => { if (document.visibilityState === 'visible') loadTasks(); }, TABLE_REFRESH_MILLIS);
  }

  window.faasDashboard = {history, charts};

  if (window.FAAS_KEY_REQUIRED && !key) {
    askKey();
  } else {
    connect();
  }
})();
