// How each claude child is run, checked on the real simulated CLI: argv, cwd, process group, prompt, and messy output.
import { afterEach, describe, expect, it } from 'vitest';
import { renderCommandPrompt } from '../../machines/actors/claude-command.js';
import { buildCommandSpec } from '../../machines/command-spec.js';
import { loadProjectLayout } from '../../machines/project/layout.js';
import { PROMPT_VARIABLES } from '../../machines/rules/prompt.js';
import { verdictSchemaArgs } from '../../machines/rules/review-verdict.js';
import { mainFlow, makeProject, runBatch, type BatchRun } from '../support/scenario.js';

let run: BatchRun | null = null;
afterEach(async () => {
  await run?.cleanup();
  run = null;
});

const REVIEW_LOOP = '  epic-1: in-progress\n  1-1-alpha: review\n';
const twoReviews = { stories: { '1-1': { codeReview: [{ high: 1, issues: ['HIGH Missing null check in src/a.ts:1'] }, 'zero'] } } };

describe('the claude child', () => {
  it('gets our exact argv, the project root as cwd, and a process group of its own', async () => {
    run = await runBatch({ developmentStatus: REVIEW_LOOP, scenario: twoReviews }, 1);
    const starts = run.trace().filter((t) => t.ev === 'start') as unknown as { argv: string[]; cwd: string; pid: number; pgid: number; logged: string }[];
    // each attempt's session id is chosen before the spawn (issue 14); a review asks for its verdict as JSON (issue 10)
    const schema = verdictSchemaArgs('code-review');
    const session = (argv: string[]) => argv[argv.indexOf('--session-id') + 1] ?? '';
    expect(starts.map((s) => [s.logged, s.argv])).toEqual([
      ['code-review-1', ['-p', '--output-format', 'stream-json', '--verbose', '--permission-mode', 'bypassPermissions', ...schema, '--session-id', session(starts[0]!.argv)]],
      ['code-review-2', ['-p', '--output-format', 'stream-json', '--verbose', '--permission-mode', 'bypassPermissions', '--model', 'haiku', ...schema, '--session-id', session(starts[1]!.argv)]],
      ['batch-commit', ['-p', '--output-format', 'stream-json', '--verbose', '--permission-mode', 'bypassPermissions', '--session-id', session(starts[2]!.argv)]],
    ]);
    for (const start of starts) expect(session(start.argv)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(starts.map((s) => session(s.argv))).size).toBe(3);
    for (const start of starts) {
      expect(start.cwd).toBe(run.root);
      expect(start.pgid).toBe(start.pid);
    }
  });

  it('passes the permission mode the operator chose', async () => {
    run = await runBatch({ developmentStatus: REVIEW_LOOP }, 1, { permissionMode: 'acceptEdits' });
    const start = run.trace().find((t) => t.ev === 'start') as unknown as { argv: string[] };
    expect(start.argv).toContain('acceptEdits');
  });

  it('reports task events from both log-script forms, with their taxonomy flag', async () => {
    run = await runBatch({ developmentStatus: '  epic-1: in-progress\n  1-1-alpha: in-progress\n' }, 1);
    const tasks = run.events.flatMap((e) => (e.type === 'command:progress' && e.payload.kind === 'task' ? [e.payload] : []));
    const devTasks = tasks.filter((t) => t.command === 'dev-story');
    expect(devTasks.length).toBeGreaterThan(0);
    expect(devTasks.every((t) => t.task.form === 'json' && t.known)).toBe(true);
    const reviewTasks = tasks.filter((t) => t.command === 'code-review-1');
    expect(reviewTasks.every((t) => t.task.form === 'orchestrator' && t.known)).toBe(true);
    expect(reviewTasks.map((t) => `${t.task.taskId}:${t.task.status}`).slice(0, 2)).toEqual([`${reviewTasks[0]!.task.taskId}:start`, `${reviewTasks[0]!.task.taskId}:end`]);
  });

  it('survives garbage lines and a 5 MB line; a child that hangs after its result is ended and counted as a failure', async () => {
    run = await runBatch(
      {
        developmentStatus: '  epic-1: in-progress\n  1-1-alpha: in-progress\n',
        scenario: { stories: { '1-1': { run: { 'dev-story': ['garbage'], 'code-review': ['big-line'] } } }, commands: { 'batch-commit': ['hang-after-result', 'ok'] } },
      },
      1,
      { resultGraceMs: 300 },
    );
    expect(mainFlow(run)).toEqual(['dev-story 1-1', 'code-review-1 1-1', 'batch-commit 1-1']);
    expect(run.output).toMatchObject({ type: 'ok', cyclesCompleted: 1 });
    const warnings = run.events.flatMap((e) => (e.type === 'command:progress' && e.payload.kind === 'warning' ? [e.payload.message] : []));
    expect(warnings.length).toBeGreaterThan(0);
    expect(run.events.flatMap((e) => (e.type === 'command:end' ? [`${e.payload.command}:${e.payload.status}:${e.payload.outcome.failure}`] : []))).toEqual([
      'dev-story:ok:null',
      'code-review-1:ok:null',
      'batch-commit:failed:watchdog-exit',
    ]);
    // a failed batch commit is an error event, and the cycle stays counted
    expect(run.events.some((e) => e.type === 'error' && e.payload.message.includes('batch-commit failed'))).toBe(true);
  });

  it('renders every demo template with only the listed variables, leaving none of them unfilled', async () => {
    const root = makeProject();
    const layout = await loadProjectLayout(root);
    const story = { key: '2a-1-log-parser', shortId: '2a-1', epicId: '2a' };
    for (const kind of ['create-story', 'story-discovery', 'story-review', 'create-tech-spec', 'tech-spec-review', 'dev-story', 'code-review', 'background-review-chain', 'batch-commit'] as const) {
      const reviewed = kind.endsWith('review');
      const spec = buildCommandSpec({
        kind,
        stories: [story],
        implementationArtifacts: layout.implementationArtifactsRelative,
        ...(reviewed ? { reviewAttempt: 2 } : {}),
        ...(kind === 'background-review-chain' ? { chain: { reviewType: 'story-review', promptFile: 'prompts/story-review.md' } } : {}),
      });
      const prompt = await renderCommandPrompt(layout, spec);
      // spec §1: the chain's template gets only its own three; it tells the chain agent to fill the rest itself
      const own = kind === 'background-review-chain' ? (['review_type', 'story_keys', 'prompt_file'] as const) : PROMPT_VARIABLES;
      for (const name of own) expect(prompt, `${kind}: {{${name}}}`).not.toContain(`{{${name}}}`);
      if (kind === 'background-review-chain') expect(prompt).toContain('substitute `{{story_key}}` = 2a-1 and `{{review_attempt}}`');
      expect(prompt).toContain(kind === 'background-review-chain' ? 'Story keys: 2a-1' : 'Stories: 2a-1');
    }
  });
});
