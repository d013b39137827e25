// The dashboard's one model: the API state, the sprint, commands and the event history, patched by each pushed event.
import { getJson } from './api.js';
import { TASKS_PER_COMMAND, taskPhaseIndex, type ActiveState, type ApiState, type BatchSummary, type CommandView, type CommandWithTasks, type LegacyEvent, type SprintView, type StoredEvent, type TaskView, type TaxonomyView } from './types.js';

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

interface Topics {
  connection: ConnectionState;
  state: ApiState;
  event: StoredEvent;
  command: CommandView;
  sprint: SprintView | null;
  descriptions: Record<string, string>;
  machine: ActiveStateView[];
  history: void;
  batches: BatchSummary[];
}

/** The active state of one machine actor, as the `machine` event carries it. */
export type ActiveStateView = ActiveState;

/** Enough events for any screen; older ones are fetched page by page when the log scrolls that far. */
export const EVENT_PAGE = 2000;


/**
 * History from before the tool, shaped like commands so every view shows it: the lines of one run (as the
 * server grouped them) are one command, and each start/end pair of a task id is one of its tasks.
 */
export function legacyCommands(rows: readonly LegacyEvent[]): CommandView[] {
  const commands: CommandView[] = [];
  const byRun = new Map<string, CommandView>();
  for (const row of rows) {
    const at = new Date(row.epoch * 1000).toISOString();
    const run = row.run;
    let current = byRun.get(run);
    if (!current) {
      current = {
        key: run,
        runId: run,
        command: row.command,
        kind: row.command.replace(/-\d+$/, ''),
        stories: [row.story],
        attempt: 1,
        reviewAttempt: null,
        batchId: null,
        model: null,
        background: false,
        status: 'ok',
        message: row.source === 'previous-db' ? "from the previous orchestrator's database" : 'from docs/sprint-runner.csv',
        costUsd: null,
        inputTokens: null,
        outputTokens: null,
        startedAt: at,
        endedAt: at,
        tasks: [],
        taskCount: 0,
      };
      byRun.set(run, current);
      commands.push(current);
    }
    current.endedAt = at;
    if (row.status === 'start') {
      addTask(current, { storyShortId: row.story, taskId: row.taskId, known: true, status: 'running', message: row.message, startedAt: at, endedAt: null });
    } else {
      const open = current.tasks.findLast((t) => t.taskId === row.taskId && t.status === 'running');
      if (open) Object.assign(open, { status: 'done', endedAt: at, message: row.message ?? open.message });
      else addTask(current, { storyShortId: row.story, taskId: row.taskId, known: true, status: 'done', message: row.message, startedAt: at, endedAt: at });
    }
  }
  // a line pair cut short in the old log stays open; close it at the command's last line
  for (const command of commands) for (const task of command.tasks) if (task.status === 'running') Object.assign(task, { status: 'done', endedAt: command.endedAt });
  return commands;
}

/** The view of an /api/commands row: the fields the views read, keyed by attempt. */
function commandView(row: CommandWithTasks): CommandView {
  const { runId, command, kind, stories, attempt, reviewAttempt, batchId, model, background, status, message, costUsd, inputTokens, outputTokens, startedAt, endedAt, taskCount } = row;
  const tasks = row.tasks.map(({ storyShortId, taskId, known, status, message, startedAt, endedAt }) => ({ storyShortId, taskId, known, status, message, startedAt, endedAt }));
  return { key: `${runId}#${attempt}`, runId, command, kind, stories, attempt, reviewAttempt, batchId, model, background, status, message, costUsd, inputTokens, outputTokens, startedAt, endedAt, tasks, taskCount };
}

/** A command keeps its newest task rows, as the API lists them: an agent looping on the log script cannot fill the page. */
function addTask(command: CommandView, task: TaskView): void {
  command.tasks.push(task);
  command.taskCount++;
  if (command.tasks.length > TASKS_PER_COMMAND) command.tasks.splice(0, command.tasks.length - TASKS_PER_COMMAND);
}

/** how often a patched current task is shown: a person reads it, a flood of lines must not redraw it each frame */
const STATE_PATCH_MS = 100;

export class Store {
  connection: ConnectionState = 'connecting';
  state: ApiState | null = null;
  sprint: SprintView | null = null;
  descriptions: Record<string, string> = {};
  taxonomy: TaxonomyView = {};
  machines: Record<string, unknown> = {};
  active: ActiveStateView[] = [];
  /** newest last; ids increase */
  events: StoredEvent[] = [];
  /** every batch, newest first (GET /api/batches) */
  batches: BatchSummary[] = [];
  /** when the server last told us anything (a pushed event or a fetched state), epoch ms */
  lastUpdateAt = 0;
  readonly commands = new Map<string, CommandView>();
  /** the newest attempt of each run id: progress events name the run, not the attempt */
  private readonly latestAttempt = new Map<string, string>();
  private readonly listeners = new Map<keyof Topics, Set<(value: never) => void>>();
  /** why sprint-status could not be read (GET /api/sprint-status's message), or null */
  sprintError: string | null = null;
  /** keys of commands seen starting before the state knew their batch (setState fills it in) */
  private readonly unbatched = new Set<string>();
  private refetching = new Map<string, ReturnType<typeof setTimeout>>();
  private oldestLoaded = Infinity;

  on<K extends keyof Topics>(topic: K, listener: (value: Topics[K]) => void): () => void {
    let set = this.listeners.get(topic);
    if (!set) this.listeners.set(topic, (set = new Set()));
    set.add(listener as (value: never) => void);
    return () => set!.delete(listener as (value: never) => void);
  }

  emit<K extends keyof Topics>(topic: K, value: Topics[K]): void {
    for (const listener of this.listeners.get(topic) ?? []) {
      try {
        (listener as (value: Topics[K]) => void)(value);
      } catch (error) {
        console.error(`listener of ${topic} failed`, error);
      }
    }
  }

  get lastEventId(): number {
    return this.events.length ? this.events[this.events.length - 1]!.id : 0;
  }

  get hasOlderEvents(): boolean {
    // Infinity until the first page is in: nothing older to ask for before that
    return Number.isFinite(this.oldestLoaded) && this.oldestLoaded > 1;
  }

  setConnection(state: ConnectionState): void {
    this.connection = state;
    this.emit('connection', state);
  }

  /**
   * First paint: everything a view needs, the newest page of events included. The log is shown as soon as the
   * state and the newest events are in; the command history (larger) follows in a second pass.
   */
  async loadInitial(): Promise<void> {
    const statePromise = getJson<ApiState>('/api/state');
    const eventsPromise = statePromise.then((state) => {
      const after = Math.max(0, state.lastEventId - EVENT_PAGE);
      return getJson<StoredEvent[]>(`/api/events?after=${after}&limit=${EVENT_PAGE}`).then((events) => ({ after, events }));
    });
    const commandsPromise = getJson<CommandWithTasks[]>('/api/commands').catch(() => [] as CommandWithTasks[]);
    const legacyPromise = getJson<LegacyEvent[]>('/api/legacy-events').catch(() => [] as LegacyEvent[]);
    const [state, taxonomy, machines, page] = await Promise.all([
      statePromise,
      getJson<TaxonomyView>('/api/taxonomy').catch(() => ({})),
      getJson<Record<string, unknown>>('/api/machines').catch(() => ({})),
      eventsPromise,
    ]);
    this.taxonomy = taxonomy;
    this.machines = machines;
    const { after, events } = page;
    this.events = events;
    this.oldestLoaded = this.events[0]?.id ?? after + 1;
    for (const event of this.events) if (event.type === 'machine') this.active = (event.payload as { actors: ActiveStateView[] }).actors;
    this.setState(state);
    this.emit('history', undefined);
    void this.refreshBatches();

    const [commands, legacy] = await Promise.all([commandsPromise, legacyPromise]);
    for (const command of legacyCommands(legacy)) this.putCommand(command);
    for (const row of [...commands].reverse()) this.putCommand(commandView(row));
    this.emit('history', undefined);
    await Promise.all([this.refreshSprint(), this.refreshDescriptions()]);
  }

  /** Older events for the log, one page at a time. */
  async loadOlder(): Promise<number> {
    if (!this.hasOlderEvents) return 0;
    const after = Math.max(0, this.oldestLoaded - 1 - EVENT_PAGE);
    const page = (await getJson<StoredEvent[]>(`/api/events?after=${after}&limit=${this.oldestLoaded - 1 - after}`)).filter((e) => e.id < this.oldestLoaded);
    this.events = [...page, ...this.events];
    this.oldestLoaded = page[0]?.id ?? after + 1;
    if (after === 0) this.oldestLoaded = 1;
    this.emit('history', undefined);
    return page.length;
  }

  /** One pushed event: the model patches what it concerns and tells the views that care. */
  apply(event: StoredEvent): void {
    if (event.id <= this.lastEventId) return; // a replay overlapping what we have
    this.events.push(event);
    this.lastUpdateAt = Date.now();
    const p = event.payload as Record<string, unknown>;
    switch (event.type) {
      case 'command:start': {
        const stories = (p['stories'] as { shortId: string }[]).map((s) => s.shortId);
        const key = `${p['runId']}#${p['attempt']}`;
        const batchId = this.batchAt(event.ts);
        if (batchId === null) this.unbatched.add(key);
        this.putCommand({
          key,
          runId: p['runId'] as string,
          command: p['command'] as string,
          kind: p['kind'] as string,
          stories,
          attempt: p['attempt'] as number,
          reviewAttempt: (p['reviewAttempt'] as number | null) ?? null,
          batchId,
          model: (p['model'] as string | null) ?? null,
          background: p['background'] as boolean,
          status: 'running',
          message: null,
          costUsd: null,
          inputTokens: null,
          outputTokens: null,
          startedAt: new Date(event.ts).toISOString(),
          endedAt: null,
          tasks: [],
          taskCount: 0,
        });
        break;
      }
      case 'command:progress': {
        const command = this.commandOfRun(p['runId'] as string);
        if (command && p['kind'] === 'task') {
          const task = p['task'] as { story: string; taskId: string; status: 'start' | 'end'; message: string };
          const at = new Date(event.ts).toISOString();
          if (task.status === 'start') {
            addTask(command, { storyShortId: task.story || null, taskId: task.taskId, known: p['known'] as boolean, status: 'running', message: task.message || null, startedAt: at, endedAt: null });
          } else {
            const open = command.tasks.findLast((t) => t.taskId === task.taskId && t.storyShortId === (task.story || null) && t.status === 'running');
            if (open) Object.assign(open, { status: 'done', endedAt: at, message: task.message || open.message });
            else addTask(command, { storyShortId: task.story || null, taskId: task.taskId, known: p['known'] as boolean, status: 'done', message: task.message || null, startedAt: at, endedAt: at });
          }
          this.emit('command', command);
          this.noteCurrentTask(command, task);
        }
        // the model that really runs the attempt (the override, then the CLI's own name for it)
        if (command && (p['kind'] === 'init' || p['kind'] === 'session') && p['model']) {
          command.model = p['model'] as string;
          this.emit('command', command);
        }
        break;
      }
      case 'command:end': {
        const command = this.commands.get(`${p['runId']}#${p['attempt']}`);
        if (command) {
          const outcome = p['outcome'] as { message: string; result: { costUsd: number; usage: { inputTokens: number; outputTokens: number } } | null };
          Object.assign(command, {
            status: p['status'],
            message: outcome.message,
            costUsd: outcome.result?.costUsd ?? null,
            inputTokens: outcome.result?.usage.inputTokens ?? null,
            outputTokens: outcome.result?.usage.outputTokens ?? null,
            endedAt: new Date(event.ts).toISOString(),
          });
          for (const task of command.tasks) if (task.status === 'running') Object.assign(task, { status: 'done', endedAt: command.endedAt });
          this.emit('command', command);
        }
        this.refetch('sprint', () => this.refreshSprint());
        this.refetch('descriptions', () => this.refreshDescriptions(), 500);
        break;
      }
      case 'machine':
        this.active = (p['actors'] as ActiveStateView[]) ?? [];
        this.emit('machine', this.active);
        break;
      case 'story:status':
      case 'cycle:start':
        this.refetch('sprint', () => this.refreshSprint());
        break;
    }
    // a task phase only moves the current task, which noteCurrentTask patches here; the rest needs the server
    if (['state', 'batch:start', 'batch:end', 'cycle:start', 'cycle:end', 'command:start', 'command:end', 'budget'].includes(event.type)) {
      this.refetch('state', () => this.refreshState());
    }
    if (['batch:start', 'batch:end', 'state', 'command:end'].includes(event.type)) this.refetch('batches', () => this.refreshBatches(), 300);
    this.emit('event', event);
  }

  private commandOfRun(runId: string): CommandView | undefined {
    const key = this.latestAttempt.get(runId);
    return key ? this.commands.get(key) : undefined;
  }

  private putCommand(command: CommandView): void {
    this.commands.set(command.key, command);
    const latest = this.latestAttempt.get(command.runId);
    if (!latest || (this.commands.get(latest)?.attempt ?? 0) <= command.attempt) this.latestAttempt.set(command.runId, command.key);
    this.emit('command', command);
  }

  /** Several events in a burst need one refetch, not one each. */
  private refetch(name: string, run: () => Promise<void>, delayMs = 0): void {
    if (this.refetching.has(name)) return;
    this.refetching.set(
      name,
      setTimeout(() => {
        this.refetching.delete(name);
        run().catch((error) => console.error(`refresh ${name} failed`, error));
      }, delayMs),
    );
  }

  /**
   * The current task as GET /api/state computes it, from a task event of the main-flow command: a flood of task
   * lines patches the state, shown at most every STATE_PATCH_MS, instead of refetching it.
   */
  private noteCurrentTask(command: CommandView, task: { taskId: string; status: 'start' | 'end'; message: string }): void {
    const state = this.state;
    if (!state?.currentCommand || command.background || state.currentCommand.command !== command.command || command.status !== 'running') return;
    const place = taskPhaseIndex(this.taxonomy[command.kind] ?? [], task.taskId);
    this.state = { ...state, currentTask: { taskId: task.taskId, status: task.status, message: task.message, ...place } };
    if (this.statePatch) return;
    this.statePatch = setTimeout(() => {
      this.statePatch = null;
      if (this.state) this.emit('state', this.state);
    }, STATE_PATCH_MS);
  }

  private statePatch: ReturnType<typeof setTimeout> | null = null;

  setState(state: ApiState): void {
    this.state = state;
    this.lastUpdateAt = Date.now();
    // a command that started before this state arrived (the first ones of a new batch) has no batch yet: the batch
    // whose span holds its start is its own (one batch runs at a time)
    for (const key of this.unbatched) {
      const command = this.commands.get(key);
      const batchId = command ? this.batchAt(Date.parse(command.startedAt)) : null;
      if (command && batchId === null) continue;
      this.unbatched.delete(key);
      if (command) this.putCommand({ ...command, batchId });
    }
    this.emit('state', state);
  }

  /** The batch of the state shown whose span holds `ts`, if any: one batch runs at a time. */
  private batchAt(ts: number): number | null {
    const batch = this.state?.batch;
    if (!batch || ts < new Date(batch.startedAt).getTime()) return null;
    return batch.endedAt !== null && ts > new Date(batch.endedAt).getTime() ? null : batch.id;
  }

  async refreshState(): Promise<void> {
    this.setState(await getJson<ApiState>('/api/state'));
  }

  async refreshBatches(): Promise<void> {
    this.batches = await getJson<BatchSummary[]>('/api/batches').catch(() => this.batches);
    this.emit('batches', this.batches);
  }

  async refreshSprint(): Promise<void> {
    try {
      this.sprint = await getJson<SprintView>('/api/sprint-status');
      this.sprintError = null;
    } catch (error) {
      // missing, unparseable or a vanished project: the views say why there are no stories
      this.sprint = null;
      this.sprintError = error instanceof Error ? error.message : String(error);
    }
    this.emit('sprint', this.sprint);
  }

  async refreshDescriptions(): Promise<void> {
    this.descriptions = await getJson<Record<string, string>>('/api/story-descriptions').catch(() => this.descriptions);
    this.emit('descriptions', this.descriptions);
  }

  /** Commands in start order, for the activity and timeline views. */
  commandList(): CommandView[] {
    return [...this.commands.values()].sort((a, b) => (a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : a.key < b.key ? -1 : 1));
  }
}
