// One readable line per event, for the terminal (cli.ts) and the dashboard's log alike. Node-free: the browser imports it.
import { asWireEvent, type StoredEvent } from './wire.js';

export interface EventText {
  text: string;
  /** a detail only the full log shows (machine states, pids, sessions); a terminal skips it */
  detail: boolean;
}

const shortIds = (stories: readonly { shortId: string }[]) => stories.map((s) => s.shortId).join(',');
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
const line = (text: string, detail = false): EventText => ({ text, detail });

/** The line for an event; an event type this version does not know is shown as its JSON payload. */
export function eventText(stored: StoredEvent): EventText {
  const event = asWireEvent(stored);
  switch (event.type) {
    case 'batch:start':
      return line(`batch started (${event.payload.maxCycles} cycle${event.payload.maxCycles === 1 ? '' : 's'})`);
    case 'batch:end':
      return line(`batch ${event.payload.status}: ${event.payload.message} (${event.payload.cyclesCompleted} cycle${event.payload.cyclesCompleted === 1 ? '' : 's'} completed)`);
    case 'cycle:start':
      return line(`cycle ${event.payload.cycle}: ${event.payload.stories.map((s) => s.shortId).join(' + ')} from ${event.payload.entryStep}`);
    case 'cycle:end':
      return line(`cycle ${event.payload.cycle} ${event.payload.counted ? 'done' : `not counted: ${event.payload.failure?.command} failed`}`);
    case 'command:start': {
      const p = event.payload;
      const tags = [p.model ?? 'default model', p.background ? 'background' : null, p.attempt > 1 ? `attempt ${p.attempt}` : null].filter(Boolean);
      return line(`▶ ${p.command} ${shortIds(p.stories)} (${tags.join(', ')})`);
    }
    case 'command:progress': {
      const p = event.payload;
      switch (p.kind) {
        case 'task':
          return line(`    ${p.task.story} ${p.command} ${p.task.taskId} ${p.task.status}${p.task.message ? `: ${p.task.message}` : ''}`);
        case 'warning':
          return line(`    ${p.command} warning: ${p.message}`);
        case 'rate-limit':
          return line(`    ${p.command} usage limit: ${p.info.status}`);
        case 'spawned':
          return line(`    ${p.command} pid ${p.pid}`, true);
        case 'init':
          return line(`    ${p.command} session ${p.sessionId} (${p.model})`, true);
        case 'session':
          return line(`    ${p.command} ${p.continuedFrom ? `continuing session ${p.continuedFrom}` : (p.note ?? `session ${p.sessionId}`)}`, !p.continuedFrom && !p.note);
        case 'api-retry':
          return line(`    ${p.command} API retry ${p.attempt}${p.errorStatus ? ` (HTTP ${p.errorStatus})` : ''}`, true);
      }
      return line(`    ${(p as { command: string }).command} ${(p as { kind: string }).kind}`, true);
    }
    case 'command:end': {
      const p = event.payload;
      const result = p.outcome?.result ?? null;
      const took = result ? ` ${seconds(result.durationMs)}` : '';
      const cost = result ? ` $${result.costUsd.toFixed(4)}` : '';
      const mark = p.status === 'ok' ? 'ok' : p.status === 'interrupted' ? 'interrupted' : `FAILED: ${p.outcome?.message ?? ''}`;
      return line(`■ ${p.command} ${p.stories.join(',')} ${mark}${took}${cost}`);
    }
    case 'story:status':
      return line(`story ${event.payload.story.key} → ${event.payload.status}${event.payload.reason ? ` (${event.payload.reason})` : ''}`);
    case 'review:verdict': {
      const p = event.payload;
      if (p.kind !== 'code-review') return line(`    ${p.command}: ${p.critical ? 'critical issues' : 'no critical issues'} (${p.source})`);
      return line(`    ${p.command} ${p.story.shortId}: ${p.zeroIssues ? 'zero issues' : (p.highest ?? 'no verdict')}, ${p.issues.length} issue(s) (${p.source})`);
    }
    case 'review:decision':
      return line(`${event.payload.story.shortId} ${event.payload.message}`);
    case 'warning':
      return line(`warning: ${event.payload.message}`);
    case 'error':
      return line(`ERROR: ${event.payload.message}`);
    case 'state':
      return line(`[${event.payload.status}${event.payload.reason ? `: ${event.payload.reason}` : ''}]`);
    case 'budget':
      return line(`budget: $${event.payload.spentUsd.toFixed(2)} spent of ${event.payload.budgetUsd === null ? 'no cap' : `$${event.payload.budgetUsd.toFixed(2)}`}`, true);
    case 'machine':
      return line(`machines: ${event.payload.actors?.length ?? 0} active`, true);
    case 'usage-limit':
      return line(`usage limit reached (${event.payload.command}): waiting until ${new Date(event.payload.until).toLocaleTimeString()}`);
    case 'usage-limit-end':
      return line('usage limit reset: going on');
  }
  return line(`${stored.type} ${JSON.stringify(stored.payload)}`, true);
}
