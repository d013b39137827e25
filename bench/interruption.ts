// The cost of an interruption (issue 14): tokens the attempt after a stop at the middle of a dev-story sends, continued vs restarted.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SIMULATED_CLAUDE, packageRoot } from '../cli.js';
import { createSprintRunner } from '../machines/runner.js';
import type { RunnerEvent } from '../machines/runner-api.js';
import { sleep } from './lib.js';

export interface InterruptionFigure {
  /** turns of the uninterrupted command, and where it was cut */
  turns: number;
  stalledAfter: number;
  /** tokens sent (input + cache read + cache write) by the whole uninterrupted command */
  uninterrupted: number;
  /** tokens sent by the attempt after the interruption */
  continued: number;
  restarted: number;
  /** turns the attempt after the interruption took */
  continuedTurns: number;
  restartedTurns: number;
}

type End = Extract<RunnerEvent, { type: 'command:end' }>;
const sent = (end: End) => {
  const usage = end.payload.outcome.result?.usage;
  return usage ? usage.inputTokens + usage.cacheReadInputTokens + usage.cacheCreationInputTokens : NaN;
};

/** One dev-story on a copy of the demo project with the simulated CLI; `stall` cuts the first attempt after N turns. */
async function devStory(stall: number | null, continueSessions: boolean): Promise<{ ends: End[] }> {
  const root = mkdtempSync(path.join(tmpdir(), 'sprint-runner-bench-interrupt-'));
  try {
    cpSync(path.join(packageRoot(), 'fixtures', 'demo-project'), root, { recursive: true });
    rmSync(path.join(root, '.sprint-sim', 'state'), { recursive: true, force: true });
    const statusFile = path.join(root, '_bmad-output', 'implementation-artifacts', 'sprint-status.yaml');
    const header = readFileSync(statusFile, 'utf8').split('development_status:')[0]!;
    writeFileSync(statusFile, `${header}development_status:\n  epic-1: in-progress\n  1-1-project-scaffold: in-progress\n`);
    const modes = stall === null ? ['ok'] : [`stall:${stall}`, 'ok'];
    writeFileSync(path.join(root, '.sprint-sim', 'scenario.yaml'), JSON.stringify({ paceMs: 0, stories: { '1-1': { run: { 'dev-story': modes } } } }));
    const runner = createSprintRunner({ projectRoot: root, claudeBin: SIMULATED_CLAUDE(), continueSessions, resultGraceMs: 1000, env: { SPRINT_SIM_PACE_MS: '0', IS_SANDBOX: '1' } });
    const events: RunnerEvent[] = [];
    runner.subscribe((e) => events.push(e));
    try {
      await runner.start({ cycles: 1 });
      if (stall !== null) {
        // the stalled attempt has printed all it will: stop it there, as an operator (or a crash) would
        const turnsSeen = () => events.filter((e) => e.type === 'command:progress' && e.payload.kind === 'task' && e.payload.command === 'dev-story').length;
        for (let waited = 0; turnsSeen() === 0 || waited < 1500; waited += 100) await sleep(100);
        await runner.stop();
        await runner.resume();
      }
      const isDevEnd = (e: RunnerEvent): e is End => e.type === 'command:end' && e.payload.command === 'dev-story' && e.payload.status === 'ok';
      for (let waited = 0; !events.some(isDevEnd); waited += 100) {
        if (waited > 60_000) throw new Error('the dev-story did not finish');
        await sleep(100);
      }
      return { ends: events.filter((e): e is End => e.type === 'command:end' && e.payload.command === 'dev-story') };
    } finally {
      await runner.close();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

export async function measureInterruption(): Promise<InterruptionFigure> {
  const full = (await devStory(null, true)).ends[0]!;
  const turns = full.payload.outcome.result!.numTurns;
  const stalledAfter = Math.floor(turns / 2);
  const continued = (await devStory(stalledAfter, true)).ends.at(-1)!;
  const restarted = (await devStory(stalledAfter, false)).ends.at(-1)!;
  return {
    turns,
    stalledAfter,
    uninterrupted: sent(full),
    continued: sent(continued),
    restarted: sent(restarted),
    continuedTurns: continued.payload.outcome.result!.numTurns,
    restartedTurns: restarted.payload.outcome.result!.numTurns,
  };
}
