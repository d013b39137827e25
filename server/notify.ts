// The optional webhook (`--notify-url`): one JSON POST per batch end, error, blocked story and usage-limit wait, never in the run's way.
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunnerEvent, RunnerListener } from '../machines/runner-api.js';

/** What the webhook receives (README, "Notifications"): `kind` says which of the four it is. */
export type Notification = {
  /** the event's time, ISO-8601 UTC */
  at: string;
  /** the project folder, so one receiver can serve several projects */
  project: string;
  batchId: number | null;
  /** one human-readable line, fit for a chat message */
  message: string;
} & (
  | { kind: 'batch-end'; status: 'completed' | 'error'; cyclesCompleted: number; done: number | null; blocked: number | null }
  | { kind: 'error'; scope: string; command: string | null; story: string | null }
  | { kind: 'story-blocked'; story: string; reason: string }
  | { kind: 'usage-limit'; until: string; command: string }
);

export interface NotifierOptions {
  url: string;
  project: string;
  batchId: () => number | null;
  /** where delivery failures go (the terminal log); they never reach the run */
  log: (message: string) => void;
  /** per attempt (default 5 s) */
  timeoutMs?: number;
  /** before the one retry (default 2 s) */
  retryDelayMs?: number;
}

export interface Notifier {
  listener: RunnerListener;
  /** resolves when every delivery under way has ended, aborting those still going after `graceMs` */
  close(graceMs?: number): Promise<void>;
}

/** The webhook URL must be http(s); checked at start-up so a typo fails there, not at the first batch end. */
export function checkNotifyUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`--notify-url must be an http:// or https:// URL (got ${JSON.stringify(url)})`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`--notify-url must be an http:// or https:// URL (got ${JSON.stringify(url)})`);
  return parsed;
}

/** The notification an event calls for, or null for the events nobody is woken for. */
export function notificationOf(event: RunnerEvent, project: string, batchId: number | null): Notification | null {
  const common = { at: new Date(event.ts).toISOString(), project, batchId };
  switch (event.type) {
    case 'batch:end': {
      const p = event.payload;
      return { ...common, kind: 'batch-end', message: `batch ${p.status}: ${p.message}`, status: p.status, cyclesCompleted: p.cyclesCompleted, done: p.done ?? null, blocked: p.blocked ?? null };
    }
    case 'error': {
      const p = event.payload;
      return { ...common, kind: 'error', message: p.message, scope: p.scope, command: p.command ?? null, story: p.story ?? null };
    }
    case 'story:status': {
      const p = event.payload;
      if (p.status !== 'blocked') return null;
      return { ...common, kind: 'story-blocked', message: `story ${p.story.key} blocked: ${p.reason}`, story: p.story.key, reason: p.reason };
    }
    case 'usage-limit': {
      const p = event.payload;
      const until = new Date(p.until).toISOString();
      return { ...common, kind: 'usage-limit', message: `usage limit reached (${p.command}): waiting until ${until}`, until, command: p.command };
    }
    default:
      return null;
  }
}

export function createNotifier(options: NotifierOptions): Notifier {
  const url = checkNotifyUrl(options.url).href;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const retryDelayMs = options.retryDelayMs ?? 2_000;
  const closing = new AbortController();
  const inFlight = new Set<Promise<void>>();

  const attempt = async (body: string): Promise<string | null> => {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'User-Agent': 'sprint-runner' },
        body,
        redirect: 'error',
        signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), closing.signal]),
      });
      await response.body?.cancel();
      return response.ok ? null : `HTTP ${response.status}`;
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      return (error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : `${(error as Error).message}${cause ? ` (${cause})` : ''}`;
    }
  };

  const deliver = async (notification: Notification): Promise<void> => {
    const body = JSON.stringify(notification);
    let failure = await attempt(body);
    if (failure !== null && !closing.signal.aborted) {
      await sleep(retryDelayMs, undefined, { signal: closing.signal }).catch(() => undefined);
      if (!closing.signal.aborted) failure = await attempt(body);
    }
    if (failure !== null) options.log(`notify: could not deliver the ${notification.kind} notification to ${url}: ${failure}`);
  };

  return {
    listener(event) {
      // the runner calls this inside its commit: it only starts a delivery, and nothing it does can throw
      try {
        const notification = notificationOf(event, options.project, options.batchId());
        if (notification === null || closing.signal.aborted) return;
        const delivery = deliver(notification).catch((error: unknown) => options.log(`notify: ${String(error)}`));
        inFlight.add(delivery);
        void delivery.finally(() => inFlight.delete(delivery));
      } catch (error) {
        options.log(`notify: ${String(error)}`);
      }
    },
    async close(graceMs = 1_000) {
      const all = Promise.all(inFlight);
      const timer = setTimeout(() => closing.abort(), graceMs);
      await all;
      clearTimeout(timer);
      closing.abort();
    },
  };
}
