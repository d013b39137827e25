// The Sprint Run tab: start / pause / resume / stop, the status line, what runs now, background tasks, costs, the live log.
import { postJson } from '../api.js';
import { formatCost, formatDuration, formatTokens, h, setAttr, setText, syncList } from '../dom.js';
import { ago, costShare, durationOf, inScope, isLive, isRunningNow, scopeLabel, type Scope } from '../model.js';
import { mountFailures } from './failures.js';
import { setUi, ui } from '../persist.js';
import type { Store } from '../store.js';
import type { ApiState, CommandView } from '../types.js';
import type { View } from '../view.js';
import { mountLog } from './log.js';

/** What each button can do in each status: a button is enabled only when it can act. */
const ENABLED: Record<Action, ApiState['status'][]> = {
  // on a stopped or interrupted batch Start becomes the secondary "Discard and start new" (asked to confirm)
  start: ['idle', 'completed', 'error', 'abandoned', 'stopped', 'interrupted'],
  pause: ['running'],
  resume: ['paused', 'stopped', 'interrupted'],
  stop: ['running', 'paused'],
};
const ACTIONS = ['start', 'pause', 'resume', 'stop'] as const;
type Action = (typeof ACTIONS)[number];
const LABELS: Record<Action, string> = { start: 'Start', pause: 'Pause', resume: 'Resume', stop: 'Stop' };

/** A stopped or interrupted batch can be resumed: Resume is the primary action, a new batch means discarding it. */
export const RESUMABLE: readonly ApiState['status'][] = ['stopped', 'interrupted'];

/** Elapsed time of a live batch, or how long an ended one took: `12m 04s`. */
export function batchTime(state: ApiState, now = Date.now()): string {
  if (!state.batch) return '';
  const start = new Date(state.batch.startedAt).getTime();
  const end = state.batch.endedAt && !isLive(state) ? new Date(state.batch.endedAt).getTime() : now;
  return formatDuration(end - start);
}

/** `cycle 1/2 running, 0 completed`: the same words in the status line and on the Batch card */
export function cycleWords(state: ApiState): string {
  if (!state.batch) return '';
  const max = state.batch.maxCycles === 'all' ? 'all' : state.batch.maxCycles;
  const done = `${state.batch.cyclesCompleted} of ${max} cycle${max === 1 ? '' : 's'} completed`;
  return isLive(state) && state.cycle ? `cycle ${state.cycle.current}/${max} running · ${done}` : done;
}

/** `$3.20 of $5.00`, or the spend alone without a cap */
export function budgetText(state: ApiState): string {
  const budget = state.budget;
  if (!budget) return '';
  return budget.budgetUsd === null ? `${formatCost(budget.spentUsd)} spent, no budget` : `${formatCost(budget.spentUsd)} of ${formatCost(budget.budgetUsd)}`;
}

/** A budget field's value: empty = none, else a positive number of USD. */
function parseBudgetField(text: string): number | null {
  const value = text.trim().replace(/^\$/, '');
  if (value === '') return null;
  const usd = Number(value);
  if (!(Number.isFinite(usd) && usd > 0)) throw new Error('the budget must be a positive number of USD, or empty for none');
  return usd;
}

export function statusLine(state: ApiState): string {
  const cycle = state.cycle ? `${state.cycle.current}/${state.cycle.max === 'all' ? 'all' : state.cycle.max}` : '';
  const took = batchTime(state);
  switch (state.status) {
    case 'running':
      return `Running cycle ${cycle} · ${took} elapsed · ${state.batch?.cyclesCompleted ?? 0} completed`;
    case 'paused':
      if (state.usageLimit) return `Usage limit reached: waiting ${countdown(state.usageLimit.until)} for the reset, then the batch goes on by itself`;
      if (state.pauseReason === 'budget reached') return `Paused: budget reached (${budgetText(state)}); raise the budget, then Resume`;
      return `Paused (cycle ${cycle}, ${took} elapsed): running commands finish, nothing new starts`;
    case 'stopping':
      return 'Stopping: ending every child process tree…';
    case 'stopped':
      return `Stopped after ${took} (${cycleWords(state)}): Resume goes on from the exact step`;
    case 'interrupted':
      return `Interrupted (${cycleWords(state)}): Resume goes on from the exact step`;
    case 'abandoned':
      return `Discarded: ${state.batch?.message ?? ''}`;
    case 'completed':
      return `Completed in ${took}: ${state.batch?.message ?? ''}`;
    case 'error':
      return `Error after ${took}: ${state.batch?.message ?? ''}`;
    default:
      return 'Idle: no batch yet';
  }
}

function countdown(until: number): string {
  const seconds = Math.max(0, Math.round((until - Date.now()) / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}h ${String(m).padStart(2, '0')}m` : `${m}:${String(s).padStart(2, '0')}`;
}

/** "all", or a whole number of at least 1 */
export function parseCycles(text: string): number | 'all' | null {
  const value = text.trim().toLowerCase();
  if (value === 'all') return 'all';
  return /^\d+$/.test(value) && Number(value) >= 1 ? Number(value) : null;
}

/** Costs of one scope (the current batch by default): per story, a paired command's cost split between its stories. */
function costPanel(store: Store) {
  const body = h('tbody');
  const batchLine = h('div', { class: 'cost-batch', 'data-testid': 'cost-batch' });
  const title = h('h2', { 'data-testid': 'cost-title' }, 'Cost and tokens');
  const panel = h(
    'div',
    { class: 'panel', 'data-testid': 'costs' },
    title,
    batchLine,
    h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'story'), h('th', {}, 'commands'), h('th', { 'data-tip': 'a command run for two stories counts half for each' }, 'cost (share)'), h('th', {}, 'tokens in/out'))), body),
  );
  const refresh = () => {
    const batchId = store.state?.batch?.id ?? null;
    const scope: Scope = batchId === null ? { kind: 'runs' } : { kind: 'batch', id: batchId };
    const byStory = new Map<string, { commands: number; shared: number; cost: number; input: number; output: number }>();
    let total = { cost: 0, input: 0, output: 0 };
    let all = 0;
    for (const command of store.commands.values()) {
      if (command.costUsd === null || !inScope(command, { kind: 'runs' })) continue;
      all += command.costUsd;
      if (!inScope(command, scope)) continue;
      total = { cost: total.cost + command.costUsd, input: total.input + (command.inputTokens ?? 0), output: total.output + (command.outputTokens ?? 0) };
      const share = costShare(command) ?? 0;
      const n = Math.max(1, command.stories.length);
      for (const story of command.stories.length ? command.stories : ['(batch)']) {
        const row = byStory.get(story) ?? { commands: 0, shared: 0, cost: 0, input: 0, output: 0 };
        byStory.set(story, {
          commands: row.commands + 1,
          shared: row.shared + (n > 1 ? 1 : 0),
          cost: row.cost + share,
          input: row.input + Math.round((command.inputTokens ?? 0) / n),
          output: row.output + Math.round((command.outputTokens ?? 0) / n),
        });
      }
    }
    setText(title, `Cost and tokens · ${scopeLabel(scope)}`);
    setText(batchLine, `${scopeLabel(scope)}: ${formatCost(total.cost) || '$0'}, ${formatTokens(total.input) || 0} in / ${formatTokens(total.output) || 0} out · all batches: ${formatCost(all) || '$0'}`);
    syncList(
      body,
      [...byStory.entries()],
      ([story]) => story,
      () => h('tr', { 'data-testid': 'cost-row' }, h('td'), h('td'), h('td'), h('td')),
      (row, [story, c]) => {
        setText(row.children[0]!, story);
        setText(row.children[1]!, c.shared ? `${c.commands} (${c.shared} shared)` : String(c.commands));
        setText(row.children[2]!, formatCost(c.cost));
        setText(row.children[3]!, `${formatTokens(c.input)} / ${formatTokens(c.output)}`);
      },
    );
  };
  return { panel, refresh };
}

export const runView: View = {
  id: 'run',
  title: 'Sprint Run',
  mount(container, store) {
    const cycles = h('input', { type: 'text', inputmode: 'numeric', size: 5, 'data-testid': 'run-cycles', value: ui().cycles, 'aria-label': 'cycles (a number or all)' });
    const error = h('span', { class: 'run-error', 'data-testid': 'run-error', role: 'alert' });
    // issue 14: an optional cap per batch, raised while it runs or is paused at it; the continue-sessions switch
    const budget = h('input', { type: 'text', inputmode: 'decimal', size: 6, 'data-testid': 'run-budget', placeholder: 'none', 'aria-label': 'budget in USD (empty: none)' });
    const budgetLine = h('span', { class: 'muted run-budget-line', 'data-testid': 'run-budget-line' });
    const setBudget = h('button', { class: 'action', 'data-testid': 'run-set-budget', title: 'set or raise the budget of the current batch', onclick: () => void (async () => {
      setText(error, '');
      try {
        await postJson('/api/budget', { budgetUsd: parseBudgetField(budget.value) });
        await store.refreshState();
      } catch (e) {
        setText(error, (e as Error).message);
      }
    })() }, 'Set budget');
    const continueBox = h('input', { type: 'checkbox', 'data-testid': 'run-continue', checked: true, onchange: () => void (async () => {
      try {
        await postJson('/api/settings', { continueSessions: continueBox.checked });
        await store.refreshState();
      } catch (e) {
        setText(error, (e as Error).message);
      }
    })() });
    const act = async (action: Action) => {
      setText(error, '');
      try {
        if (action === 'start') {
          const count = parseCycles(cycles.value);
          if (count === null) throw new Error('cycles must be a whole number of at least 1, or "all"');
          // on a resumable batch Start discards it: the server refuses (409 resumable-batch) unless told so
          const discard = !!store.state && RESUMABLE.includes(store.state.status);
          if (discard && !window.confirm(`Discard batch #${store.state?.batch?.id ?? ''} (it cannot be resumed afterwards) and start a new one?`)) return;
          const budgetUsd = parseBudgetField(budget.value);
          await postJson('/api/batch/start', { cycles: count, ...(discard ? { discard: true } : {}), ...(budgetUsd === null ? {} : { budgetUsd }) });
        } else {
          await postJson(`/api/batch/${action}`);
        }
        await store.refreshState();
      } catch (e) {
        setText(error, (e as Error).message);
      }
    };
    const buttons = ACTIONS.map((action) =>
      h('button', { class: `action${action === 'start' ? ' primary' : ''}`, 'data-testid': `run-${action}`, disabled: true, onclick: () => void act(action) }, LABELS[action]),
    );
    cycles.addEventListener('input', () => setUi('cycles', cycles.value));

    const status = h('div', { class: 'run-status', 'data-testid': 'run-status' });
    const nextBatch = h('div', { class: 'panel next-batch', 'data-testid': 'next-batch', hidden: true }, 'Batch complete. How many cycles for the next batch? Set the count and press Start.');
    const current = h('ul', { class: 'run-current', 'data-testid': 'run-current' });
    const phase = h('div', { class: 'run-phase', 'data-testid': 'run-phase' });
    const progress = h('progress', { max: 1, value: 0, 'data-testid': 'run-progress' });
    const background = h('ul', { class: 'run-background', 'data-testid': 'run-background' });
    const costs = costPanel(store);
    const logPanel = h('div', { class: 'panel log-panel' }, h('h2', {}, 'Event log'));

    const updated = h('span', { class: 'muted run-updated', 'data-testid': 'last-update' });
    const failures = mountFailures(store);
    container.append(
      h(
        'div',
        { class: 'toolbar run-controls' },
        h('label', {}, 'Cycles ', cycles),
        h('label', {}, 'Budget $', budget),
        ...buttons,
        setBudget,
        h('label', { title: 'an interrupted step continues its CLI session instead of starting over' }, continueBox, ' continue interrupted work'),
        budgetLine,
        error,
        updated,
      ),
      status,
      nextBatch,
      failures,
      h('div', { class: 'run-grid' }, h('div', { class: 'panel' }, h('h2', {}, 'Now'), current, phase, progress), h('div', { class: 'panel' }, h('h2', {}, 'Background tasks'), background), costs.panel),
      logPanel,
    );
    mountLog(logPanel, store);

    let lastStatus = '';
    // the usage-limit countdown ticks once a second while there is one
    setInterval(() => {
      if (store.state?.usageLimit) setText(status, statusLine(store.state));
      setText(updated, store.lastUpdateAt ? `last update ${ago(store.lastUpdateAt)}` : '');
      if (store.state && isLive(store.state)) setText(status, statusLine(store.state));
      if (store.state) renderNow(store.state);
    }, 1000);
    /** Now: every command running at this moment (the main flow and the parallel ones), each with its time */
    const renderNow = (state: ApiState) => {
      const running = store.commandList().filter((c) => isRunningNow(c, state));
      syncList(
        current,
        running,
        (c) => c.key,
        () => h('li', { 'data-testid': 'now-command' }),
        (li, c) => {
          const main = state.currentCommand?.command === c.command && !c.background;
          setText(li, `${c.stories.join(' + ') || 'batch'} · ${c.command}${c.model ? ` [${c.model}]` : ''}${c.attempt > 1 ? ` · attempt ${c.attempt}` : ''}${c.background ? ' · background' : ''} · ${formatDuration(durationOf(c, state))}`);
          setAttr(li, 'data-main', main ? 'true' : null);
        },
      );
      setAttr(current, 'data-empty', running.length ? null : 'Nothing running');
    };
    store.on('state', (state) => {
      buttons.forEach((button, i) => {
        button.disabled = !ENABLED[ACTIONS[i]!].includes(state.status);
      });
      // a stopped batch is resumed, not restarted: Resume is primary, Start becomes the secondary "discard" action
      const resumable = RESUMABLE.includes(state.status);
      const [start, , resume] = buttons;
      start!.classList.toggle('primary', !resumable);
      start!.classList.toggle('secondary', resumable);
      resume!.classList.toggle('primary', resumable);
      setText(start!, resumable ? 'Discard and start new' : 'Start');
      setText(status, statusLine(state));
      status.dataset['status'] = state.status;
      setText(budgetLine, budgetText(state));
      if (state.continueSessions !== undefined) continueBox.checked = state.continueSessions;
      // when a batch completes, ask for the next one's size
      nextBatch.hidden = state.status !== 'completed';
      if (state.status === 'completed' && lastStatus && lastStatus !== 'completed') cycles.focus();
      lastStatus = state.status;
      renderNow(state);
      const task = state.currentTask;
      setText(phase, task ? `${task.taskId} ${task.status === 'start' ? 'running' : 'done'}${task.index ? ` · ${task.index}/${task.total}` : ''}${task.message ? ` · ${task.message}` : ''}` : '');
      progress.max = task?.total ?? 1;
      progress.value = task?.index ? task.index - (task.status === 'start' ? 0.5 : 0) : 0;
      syncList(
        background,
        state.background,
        (task) => task.key,
        () => h('li', { 'data-testid': 'background-task' }),
        (li, task) => setText(li, `${task.command} ${task.stories.join(',')} · ${task.status} since ${new Date(task.startedAt).toLocaleTimeString([], { hour12: false })}`),
      );
      if (state.background.length === 0) setAttr(background, 'data-empty', 'none running');
      else setAttr(background, 'data-empty', null);
      costs.refresh();
    });
    // a task line patches its command too: Now is redrawn only when a command starts or ends (and each second)
    const seen = new Map<string, CommandView['status']>();
    store.on('command', (command: CommandView) => {
      if (command.status !== 'running') costs.refresh();
      if (seen.get(command.key) === command.status) return;
      seen.set(command.key, command.status);
      if (store.state) renderNow(store.state);
    });
    store.on('history', () => costs.refresh());
  },
};
