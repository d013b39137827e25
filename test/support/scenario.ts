// Runs a real batch on a copy of the demo project with the simulated CLI as a real child, and records what happened.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, utimesSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify as toYaml } from 'yaml';
import { createSprintRunner } from '../../machines/runner.js';
import type { RunnerEvent, SprintRunner, SprintRunnerOptions } from '../../machines/runner-api.js';
import type { BatchOutput, MaxCycles } from '../../machines/batch.machine.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEMO_PROJECT = path.join(REPO_ROOT, 'fixtures', 'demo-project');
export const SIM_CLAUDE = path.join(REPO_ROOT, 'fixtures', 'sim-claude', 'claude.mjs');
export const SPRINT_STATUS_REL = '_bmad-output/implementation-artifacts/sprint-status.yaml';
export const PROJECT_CONTEXT_REL = '_bmad-output/planning-artifacts/project-context.md';

export interface TraceLine {
  ev: 'start' | 'end' | 'grandchild' | 'signal' | 'rejected';
  pid: number;
  command?: string | null;
  logged?: string;
  stories?: string[];
  model?: string | null;
  t: number;
  outcome?: string;
  mode?: string;
}

/** A command as the acceptance tests compare it: the exact sequence with its stories, attempt, model and background. */
export interface CommandRecord {
  command: string;
  stories: string;
  reviewAttempt: number | null;
  attempt: number;
  model: string | null;
  background: boolean;
}

export interface ProjectSetup {
  /** scenario for the simulated CLI (fixtures/sim-claude/README.md) */
  scenario?: Record<string, unknown>;
  /** replaces the development_status section of the demo sprint-status, keeping its header and comments */
  developmentStatus?: string;
  projectContext?: 'fresh' | 'stale' | 'missing';
}

/** A fresh copy of the demo project with the given scenario, in a temp folder. */
export function makeProject(setup: ProjectSetup = {}): string {
  const root = mkdtempSync(path.join(tmpdir(), 'sprint-runner-test-'));
  cpSync(DEMO_PROJECT, root, { recursive: true });
  rmSync(path.join(root, '.sprint-sim', 'state'), { recursive: true, force: true });
  mkdirSync(path.join(root, '.sprint-sim'), { recursive: true });
  writeFileSync(path.join(root, '.sprint-sim', 'scenario.yaml'), toYaml({ paceMs: 0, ...setup.scenario }));
  if (setup.developmentStatus !== undefined) {
    const file = path.join(root, SPRINT_STATUS_REL);
    const text = readFileSync(file, 'utf8');
    const head = text.slice(0, text.indexOf('development_status:'));
    writeFileSync(file, `${head}development_status:\n${setup.developmentStatus.replace(/^\n/, '')}`);
  }
  const context = path.join(root, PROJECT_CONTEXT_REL);
  if (setup.projectContext === 'missing') rmSync(context, { force: true });
  if (setup.projectContext === 'stale') {
    const dayAndAnHourAgo = (Date.now() - 25 * 3600 * 1000) / 1000;
    utimesSync(context, dayAndAnHourAgo, dayAndAnHourAgo);
  }
  return root;
}

export interface ScenarioRun {
  root: string;
  runner: SprintRunner;
  events: RunnerEvent[];
  traceFile: string;
  trace(): TraceLine[];
  commands(filter?: (c: CommandRecord) => boolean): CommandRecord[];
  sprintStatus(): string;
  statusOf(key: string): string | undefined;
  cleanup(): Promise<void>;
}

export function startRunner(root: string, options: Partial<SprintRunnerOptions> = {}): ScenarioRun {
  const traceFile = path.join(root, '.sprint-sim', 'trace.jsonl');
  const runner = createSprintRunner({
    projectRoot: root,
    claudeBin: SIM_CLAUDE,
    resultGraceMs: 1000,
    ...options,
    env: { SPRINT_SIM_TRACE: traceFile, SPRINT_SIM_PACE_MS: '0', IS_SANDBOX: '1', ...options.env },
  });
  const events: RunnerEvent[] = [];
  runner.subscribe((event) => events.push(event));
  return {
    root,
    runner,
    events,
    traceFile,
    trace: () =>
      existsSync(traceFile)
        ? readFileSync(traceFile, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((line) => JSON.parse(line) as TraceLine)
        : [],
    commands: (filter = () => true) =>
      events
        .filter((e): e is Extract<RunnerEvent, { type: 'command:start' }> => e.type === 'command:start')
        .map((e) => ({
          command: e.payload.command,
          stories: e.payload.stories.map((s) => s.shortId).join(','),
          reviewAttempt: e.payload.reviewAttempt,
          attempt: e.payload.attempt,
          model: e.payload.model,
          background: e.payload.background,
        }))
        .filter(filter),
    sprintStatus: () => readFileSync(path.join(root, SPRINT_STATUS_REL), 'utf8'),
    statusOf(key: string) {
      const match = new RegExp(`^\\s*${key}:\\s*([^\\s#]+)`, 'm').exec(this.sprintStatus());
      return match?.[1];
    },
    async cleanup() {
      await runner.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export type BatchRun = ScenarioRun & { output: BatchOutput };

/** Runs one whole batch and waits for its end. */
export async function runBatch(setup: ProjectSetup, cycles: MaxCycles, options: Partial<SprintRunnerOptions> = {}): Promise<BatchRun> {
  const run = startRunner(makeProject(setup), options);
  await run.runner.start({ cycles });
  const output: BatchOutput = await run.runner.done();
  return { ...run, output };
}

/** Compact `command stories` lines of the main flow, for exact sequence assertions. */
export const mainFlow = (run: ScenarioRun) =>
  run.commands((c) => !c.background).map((c) => `${c.command} ${c.stories}${c.model ? ` [${c.model}]` : ''}${c.attempt > 1 ? ` #${c.attempt}` : ''}`);
