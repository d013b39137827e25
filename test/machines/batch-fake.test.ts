// Machine-level runs of the whole batch against an in-memory world: fast checks of the flow before the process tests.
import { describe, expect, it } from 'vitest';
import { createActor, toPromise } from 'xstate';
import { provideWorkflow } from '../../machines/workflow.js';
import { FakeWorld, type FakeReply } from '../support/fake-world.js';
import type { CommandSpec } from '../../machines/types.js';

const SPRINT = `# sprint status
development_status:
  epic-1: in-progress
  1-1-alpha: review
  1-2-beta: backlog   # next
  1-3-gamma: backlog
  epic-2a: backlog
  2a-1-delta: ready-for-dev
`;

function happy(spec: CommandSpec): FakeReply {
  const keys = spec.stories.map((s) => s.key);
  switch (spec.kind) {
    case 'create-story':
      return { text: spec.stories.map((s) => `${s.shortId} [TECH-SPEC-DECISION: SKIP]`).join('\n'), statuses: Object.fromEntries(keys.map((k) => [k, 'ready-for-dev'])) };
    case 'story-review':
    case 'tech-spec-review':
      return { text: 'NO CRITICAL ISSUES FOUND' };
    case 'dev-story':
      return { statuses: Object.fromEntries(keys.map((k) => [k, 'review'])) };
    case 'code-review':
      return { text: 'ZERO ISSUES' };
    default:
      return {};
  }
}

async function run(world: FakeWorld, maxCycles: number | 'all') {
  const actor = createActor(provideWorkflow(world.actors()), { input: { maxCycles, implementationArtifacts: '_bmad-output/implementation-artifacts' } });
  const events: string[] = [];
  actor.on('*', (e) => events.push(e.type));
  actor.start();
  const output = await toPromise(actor);
  return { output, events };
}

describe('batch machine on a fake world', () => {
  it('runs 2 cycles: a review story, then the backlog pair', async () => {
    const world = new FakeWorld(SPRINT, happy);
    const { output } = await run(world, 2);
    expect(output).toMatchObject({ type: 'ok', cyclesCompleted: 2, message: 'Batch complete' });
    expect(world.calls.map((c) => `${c.command} ${c.stories.join(',')}`)).toEqual([
      'code-review-1 1-1',
      'batch-commit 1-1',
      'create-story 1-2,1-3',
      'story-discovery 1-2,1-3',
      'story-review-1 1-2,1-3',
      'dev-story 1-2',
      'code-review-1 1-2',
      'dev-story 1-3',
      'code-review-1 1-3',
      'batch-commit 1-2,1-3',
    ]);
    expect(world.statusOf('1-1-alpha')).toBe('done');
    expect(world.statusOf('1-3-gamma')).toBe('done');
  });

  it('runs all cycles until the sprint is complete', async () => {
    const world = new FakeWorld(SPRINT, happy);
    const { output } = await run(world, 'all');
    expect(output).toMatchObject({ type: 'ok', message: 'Sprint complete: 4 done, 0 blocked', cyclesCompleted: 3 });
  });
});
