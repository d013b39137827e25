// The Sprint Run tab: start / pause / resume / stop, the status line, what runs now, background tasks, costs, the live log.
import { postJson } from '../api.js';
import { formatCost, formatTokens, h, setAttr, setText, syncList } from '../dom.js';
import { setUi, ui } from '../persist.js';
import type { Store } from '../store.js';
import type { ApiState, CommandView } from '../types.js';
import type { View } from '../view.js';
import { mountLog } from './log.js';

/** What each button can do in each status: a button is enabled only when it can act. */
const ENABLED: Record<string, ApiState['status'][]> = {
  start: ['idle', 'completed', 'error', 'stopped', 'interrupted'],
  pause: ['running'],
  resume: ['paused', 'stopped', 'interrupted'],
  stop: ['running', 'paused'],
};

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
  switch (state.status) {
    case 'running':
      return `Running cycle ${cycle}`;
    case 'paused':
      if (state.usageLimit) return `Usage limit reached: waiting ${countdown(state.usageLimit.until)} for the reset, then the batch goes on by itself`;
      if (state.pauseReason === 'budget reached') return `Paused: budget reached (${budgetText(state)}); raise the budget, then Resume`;
      return `Paused (cycle ${cycle}): running commands finish, nothing new starts`;
    case 'stopping':
      return 'Stopping: ending every child process tree…';
    case 'stopped':
      return 'Stopped';
    case 'interrupted':
      return 'Interrupted, resume?';
    case 'completed':
      return `Completed: ${state.batch?.message ?? ''}`;
    case 'error':
      return `Error: ${state.batch?.message ?? ''}`;
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

function costPanel(store: Store) {
  const body = h('tbody');
  const batchLine = h('div', { class: 'cost-batch', 'data-testid': 'cost-batch' });
  const panel = h(
    'div',
    { class: 'panel', 'data-testid': 'costs' },
    h('h2', {}, 'Cost and tokens'),
    batchLine,
    h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'story'), h('th', {}, 'commands'), h('th', {}, 'cost'), h('th', {}, 'tokens in/out'))), body),
  );
  const refresh = () => {
    const byStory = new Map<string, { commands: number; cost: number; input: number; output: number }>();
    let total = { cost: 0, input: 0, output: 0 };
    for (const command of store.commands.values()) {
      if (command.costUsd === null) continue;
      total = { cost: total.cost + command.costUsd, input: total.input + (command.inputTokens ?? 0), output: total.output + (command.outputTokens ?? 0) };
      for (const story of command.stories.length ? command.stories : ['(batch)']) {
        const row = byStory.get(story) ?? { commands: 0, cost: 0, input: 0, output: 0 };
        byStory.set(story, { commands: row.commands + 1, cost: row.cost + command.costUsd, input: row.input + (command.inputTokens ?? 0), output: row.output + (command.outputTokens ?? 0) });
      }
    }
    setText(batchLine, `This batch: ${formatCost(store.state?.batch?.costUsd ?? 0)} · all recorded commands: ${formatCost(total.cost)}, ${formatTokens(total.input)} in / ${formatTokens(total.output)} out`);
    syncList(
      body,
      [...byStory.entries()],
      ([story]) => story,
      () => h('tr', { 'data-testid': 'cost-row' }, h('td'), h('td'), h('td'), h('td')),
      (row, [story, c]) => {
        setText(row.children[0]!, story);
        setText(row.children[1]!, String(c.commands));
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
    const act = async (action: 'start' | 'pause' | 'resume' | 'stop') => {
      setText(error, '');
      try {
        if (action === 'start') {
          const count = parseCycles(cycles.value);
          if (count === null) throw new Error('cycles must be a whole number of at least 1, or "all"');
          const budgetUsd = parseBudgetField(budget.value);
          await postJson('/api/batch/start', budgetUsd === null ? { cycles: count } : { cycles: count, budgetUsd });
        } else {
          await postJson(`/api/batch/${action}`);
        }
        await store.refreshState();
      } catch (e) {
        setText(error, (e as Error).message);
      }
    };
    const buttons = (['start', 'pause', 'resume', 'stop'] as const).map((action) =>
      h('button', { class: `action${action === 'start' ? ' primary' : ''}`, 'data-testid': `run-${action}`, disabled: true, onclick: () => void act(action) }, action[0]!.toUpperCase() + action.slice(1)),
    );
    cycles.addEventListener('input', () => setUi('cycles', cycles.value));

    const status = h('div', { class: 'run-status', 'data-testid': 'run-status' });
    const nextBatch = h('div', { class: 'panel next-batch', 'data-testid': 'next-batch', hidden: true }, 'Batch complete. How many cycles for the next batch? Set the count and press Start.');
    const current = h('div', { class: 'run-current', 'data-testid': 'run-current' });
    const phase = h('div', { class: 'run-phase', 'data-testid': 'run-phase' });
    const progress = h('progress', { max: 1, value: 0, 'data-testid': 'run-progress' });
    const background = h('ul', { class: 'run-background', 'data-testid': 'run-background' });
    const costs = costPanel(store);
    const logPanel = h('div', { class: 'panel log-panel' }, h('h2', {}, 'Event log'));

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
      ),
      status,
      nextBatch,
      h('div', { class: 'run-grid' }, h('div', { class: 'panel' }, h('h2', {}, 'Now'), current, phase, progress), h('div', { class: 'panel' }, h('h2', {}, 'Background tasks'), background), costs.panel),
      logPanel,
    );
    mountLog(logPanel, store);

    let lastStatus = '';
    // the usage-limit countdown ticks once a second while there is one
    setInterval(() => {
      if (store.state?.usageLimit) setText(status, statusLine(store.state));
    }, 1000);
    store.on('state', (state) => {
      buttons.forEach((button, i) => {
        button.disabled = !ENABLED[['start', 'pause', 'resume', 'stop'][i]!]!.includes(state.status);
      });
      setText(status, statusLine(state));
      status.dataset['status'] = state.status;
      setText(budgetLine, budgetText(state));
      if (state.continueSessions !== undefined) continueBox.checked = state.continueSessions;
      // when a batch completes, ask for the next one's size
      nextBatch.hidden = state.status !== 'completed';
      if (state.status === 'completed' && lastStatus && lastStatus !== 'completed') cycles.focus();
      lastStatus = state.status;
      const command = state.currentCommand;
      setText(current, command ? `${state.currentStory?.key ?? ''} · ${command.command}${command.model ? ` [${command.model}]` : ''}${command.attempt > 1 ? ` · attempt ${command.attempt}` : ''}` : 'Nothing running');
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
    store.on('command', (command: CommandView) => {
      if (command.status !== 'running') costs.refresh();
    });
    store.on('history', () => costs.refresh());
  },
};
