// An in-memory SprintService for the server tests: events in an array with increasing ids, calls recorded, failures on demand.
import { ServiceError, type ApiState, type ApiStatus, type CommandTranscript, type SprintService, type StoredEvent } from '../../server/service.js';
import { apiState } from '../support/api-state.js';

type Method = Exclude<keyof SprintService, 'subscribe'>;

export class FakeService implements SprintService {
  readonly events: StoredEvent[] = [];
  readonly calls: { method: Method; args: unknown[] }[] = [];
  status: ApiStatus = 'idle';
  /** how long eventsAfter's answer takes to come back, so live events arrive during a replay and only as live events */
  readDelayMs = 0;
  private readonly listeners = new Set<(event: StoredEvent) => void>();
  private readonly failures = new Map<Method, unknown>();

  /** Stores an event and then notifies subscribers, as the real service must (stored before notified). */
  push(type = 'command:progress', payload: unknown = {}): StoredEvent {
    const event: StoredEvent = { id: this.lastEventId + 1, type, ts: Date.now(), payload };
    this.events.push(event);
    for (const listener of this.listeners) listener(event);
    return event;
  }

  get lastEventId(): number {
    return this.events.at(-1)?.id ?? 0;
  }

  get subscriberCount(): number {
    return this.listeners.size;
  }

  /** The next call of `method` throws `error`. */
  fail(method: Method, error: unknown): void {
    this.failures.set(method, error);
  }

  private record(method: Method, ...args: unknown[]): void {
    this.calls.push({ method, args });
    if (this.failures.has(method)) {
      const error = this.failures.get(method);
      this.failures.delete(method);
      throw error;
    }
  }

  async state(): Promise<ApiState> {
    this.record('state');
    return apiState({ status: this.status, lastEventId: this.lastEventId });
  }

  async setBudget(budgetUsd: number | null): Promise<void> {
    this.record('setBudget', budgetUsd);
  }

  async setContinueSessions(on: boolean): Promise<void> {
    this.record('setContinueSessions', on);
  }

  async transcript(commandId: number): Promise<CommandTranscript | null> {
    this.record('transcript', commandId);
    return null;
  }

  async start(cycles: number | 'all', options: { discard?: boolean; budgetUsd?: number | null } = {}): Promise<void> {
    this.record('start', cycles, options);
    if (this.status === 'running' || this.status === 'paused' || this.status === 'stopping') throw new ServiceError('A batch is already active', 409, 'already-active');
    if ((this.status === 'stopped' || this.status === 'interrupted') && !options.discard) {
      throw new ServiceError('batch 1 is stopped: resume it, or discard it and start a new batch', 409, 'resumable-batch', { batchId: 1 });
    }
    this.status = 'running';
  }

  async resume(): Promise<void> {
    this.record('resume');
    if (this.status !== 'paused' && this.status !== 'stopped') throw new ServiceError('No batch to resume', 409, 'nothing-to-resume');
    this.status = 'running';
  }

  async pause(): Promise<void> {
    this.record('pause');
    this.status = 'paused';
  }

  async stop(): Promise<void> {
    this.record('stop');
    this.status = 'stopping';
    await new Promise((resolve) => setTimeout(resolve, 5));
    this.status = 'stopped';
  }

  subscribe(listener: (event: StoredEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async legacyEvents(): Promise<unknown[]> {
    this.record('legacyEvents');
    return [];
  }

  async legacyRecords(): Promise<unknown> {
    this.record('legacyRecords');
    return { imports: [], records: [] };
  }

  async eventsAfter(afterId: number, limit: number): Promise<StoredEvent[]> {
    this.record('eventsAfter', afterId, limit);
    // the answer is what was stored when the query ran; events stored while it travels back are not in it
    const answer = this.events.filter((event) => event.id > afterId).slice(0, limit);
    if (this.readDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.readDelayMs));
    return answer;
  }

  async batches(): Promise<unknown[]> {
    this.record('batches');
    return [{ id: 1, status: 'completed' }];
  }

  async stories(): Promise<unknown[]> {
    this.record('stories');
    return [{ key: '1-1-login', status: 'done' }];
  }

  async commands(filter: { story?: string }): Promise<unknown[]> {
    this.record('commands', filter);
    return [{ id: 7, command: 'dev-story', stories: [filter.story ?? '1-1-login'] }];
  }

  async verdicts(filter: { story?: string; after?: number }): Promise<unknown[]> {
    this.record('verdicts', filter);
    return [{ id: 9, type: 'review:decision', payload: { message: 'attempt 3 similar to 2 and 1: blocked (repeated error pattern)' } }];
  }

  async sprintStatus(): Promise<unknown> {
    this.record('sprintStatus');
    return { epics: [{ id: '1', stories: ['1-1-login'] }] };
  }

  async storyDescriptions(): Promise<Record<string, string>> {
    this.record('storyDescriptions');
    return { '1-1-login': 'As a user I can log in.' };
  }

  async taxonomy(): Promise<unknown> {
    this.record('taxonomy');
    return { commands: { 'dev-story': { phases: [{ id: 'setup' }] } } };
  }

  async machines(): Promise<unknown> {
    this.record('machines');
    return { batch: { id: 'batch' } };
  }
}
