// Failures at a glance: the errors, warnings, failed commands and blocked stories of the latest batch, each with its reason and a link to the command.
import { clock, h, setAttr, setText, syncList } from '../dom.js';
import { scopeLabel } from '../model.js';
import type { Store } from '../store.js';
import type { StoredEvent, WireEvent } from '../types.js';

export interface Problem {
  key: string;
  level: 'error' | 'warning' | 'failed' | 'blocked';
  at: number;
  what: string;
  reason: string;
  /** the command to open (`runId#attempt`), when one is known */
  command: string | null;
}

/** Asks the dashboard to show one command (main.ts switches to Activity, which opens and scrolls to it). */
export function openCommand(key: string): void {
  window.dispatchEvent(new CustomEvent('sprint:open-command', { detail: key }));
}

/** The problems of the latest batch: newest first, errors before warnings at the same moment. */
export function problemsOf(store: Store): Problem[] {
  const batchId = store.state?.batch?.id ?? null;
  if (batchId === null) return [];
  const out: Problem[] = [];
  const commands = [...store.commands.values()].filter((c) => c.batchId === batchId);
  const commandByName = (name: string | undefined, story: string | undefined) =>
    name ? [...commands].reverse().find((c) => c.command === name && (!story || c.stories.includes(story)))?.key ?? null : null;
  for (const c of commands) {
    if (c.status === 'failed') out.push({ key: `f:${c.key}`, level: 'failed', at: new Date(c.endedAt ?? c.startedAt).getTime(), what: `${c.command} ${c.stories.join(',')}`, reason: c.message ?? 'failed', command: c.key });
  }
  // this batch's events: the loaded ones after its last batch:start (read in place, newest first, no copy)
  const events: StoredEvent[] = [];
  for (let i = store.events.length - 1; i >= 0; i--) {
    const stored = store.events[i]!;
    if (stored.type === 'error' || stored.type === 'warning' || stored.type === 'story:status') events.push(stored);
    if (stored.type === 'batch:start') break;
  }
  for (const stored of events) {
    const event = stored as WireEvent;
    if (event.type === 'error' || event.type === 'warning') {
      const p = event.payload;
      out.push({ key: `e:${stored.id}`, level: event.type, at: stored.ts, what: [p.command, p.story].filter(Boolean).join(' ') || event.type, reason: p.message, command: commandByName(p.command, p.story) });
    } else if (event.type === 'story:status' && event.payload.status === 'blocked') {
      const p = event.payload;
      out.push({ key: `b:${stored.id}`, level: 'blocked', at: stored.ts, what: `story ${p.story.shortId} blocked`, reason: p.reason, command: [...commands].reverse().find((c) => c.stories.includes(p.story.shortId))?.key ?? null });
    }
  }
  // blocked stories whose event is older than the loaded page still come from the batch's summary
  const summary = store.batches.find((b) => b.id === batchId);
  for (const blocked of summary?.storiesBlocked ?? []) {
    if (!out.some((p) => p.level === 'blocked' && p.what === `story ${blocked.story} blocked`)) {
      out.push({ key: `s:${blocked.story}`, level: 'blocked', at: 0, what: `story ${blocked.story} blocked`, reason: blocked.reason, command: [...commands].reverse().find((c) => c.stories.includes(blocked.story))?.key ?? null });
    }
  }
  const rank = { error: 0, blocked: 1, failed: 2, warning: 3 } as const;
  return out.sort((a, b) => b.at - a.at || rank[a.level] - rank[b.level]);
}

/** The panel on the Run tab; hidden while there is nothing to report. */
export function mountFailures(store: Store): HTMLElement {
  const title = h('h2', {});
  const list = h('ul', { class: 'failures-list' });
  const panel = h('div', { class: 'panel failures', 'data-testid': 'failures', hidden: true }, title, list);
  const render = () => {
    const problems = problemsOf(store);
    panel.hidden = problems.length === 0;
    const counts = (level: Problem['level']) => problems.filter((p) => p.level === level).length;
    const batchId = store.state?.batch?.id;
    setText(title, `Problems · ${batchId ? scopeLabel({ kind: 'batch', id: batchId }) : ''}: ${counts('error')} errors, ${counts('failed')} failed commands, ${counts('blocked')} blocked stories, ${counts('warning')} warnings`);
    setAttr(panel, 'data-count', String(problems.filter((p) => p.level !== 'warning').length));
    syncList(
      list,
      problems.slice(0, 50),
      (p) => p.key,
      () =>
        h(
          'li',
          { class: 'failure', 'data-testid': 'failure' },
          h('span', { class: 'badge' }),
          h('span', { class: 'mono muted failure-at' }),
          h('span', { class: 'failure-what' }),
          h('span', { class: 'failure-reason' }),
          h('button', { class: 'link', type: 'button' }, 'open command'),
        ),
      (li, p) => {
        const [badge, at, what, reason, link] = Array.from(li.children) as HTMLElement[];
        setText(badge!, p.level);
        setAttr(badge!, 'data-status', p.level === 'warning' ? 'interrupted' : 'failed');
        setAttr(li, 'data-level', p.level);
        setText(at!, p.at ? clock(p.at) : '');
        setText(what!, p.what);
        setText(reason!, p.reason);
        link!.hidden = !p.command;
        link!.onclick = () => p.command && openCommand(p.command);
      },
    );
  };
  // a flood of task lines must not rescan the events: only the types that can add a problem do
  const RELEVANT = new Set(['error', 'warning', 'story:status', 'batch:start', 'command:end']);
  store.on('event', (event) => RELEVANT.has(event.type) && schedule());
  for (const topic of ['batches', 'history'] as const) store.on(topic, schedule);
  let frame = 0;
  function schedule(): void {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      render();
    });
  }
  return panel;
}
