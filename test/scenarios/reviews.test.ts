// Scenario tests (real simulated-CLI children): tech-spec decisions, critical issues in both reviews, the four loop exits.
import { afterEach, describe, expect, it } from 'vitest';
import { mainFlow, runBatch, type BatchRun, type ScenarioRun } from '../support/scenario.js';

let run: BatchRun | null = null;
afterEach(async () => {
  await run?.cleanup();
  run = null;
});

const PAIR_IN_BACKLOG = '  epic-1: backlog\n  1-1-alpha: backlog\n  1-2-beta: backlog\n';
const ONE_IN_BACKLOG = '  epic-1: backlog\n  1-1-alpha: backlog\n';
const ONE_IN_REVIEW = '  epic-1: in-progress\n  1-1-alpha: review\n';

const warnings = (r: ScenarioRun) => r.events.filter((e) => e.type === 'warning').map((e) => (e.type === 'warning' ? e.payload.message : ''));
const background = (r: ScenarioRun) => r.commands((c) => c.background);

describe('tech-spec decisions', () => {
  it('one REQUIRED story in a pair sends the pair through Steps 3 and 3b', async () => {
    run = await runBatch({ developmentStatus: PAIR_IN_BACKLOG, scenario: { stories: { '1-1': { techSpec: 'REQUIRED' }, '1-2': { techSpec: 'SKIP' } } } }, 1);
    expect(mainFlow(run).slice(0, 6)).toEqual([
      'create-story 1-1,1-2',
      'story-discovery 1-1,1-2',
      'story-review-1 1-1,1-2',
      'create-tech-spec 1-1,1-2',
      'tech-spec-review-1 1-1,1-2',
      'dev-story 1-1',
    ]);
  });

  it('SKIP for every story goes from review-1 straight to dev-story', async () => {
    run = await runBatch({ developmentStatus: PAIR_IN_BACKLOG, scenario: { defaults: { techSpec: 'SKIP' } } }, 1);
    expect(mainFlow(run).slice(2, 4)).toEqual(['story-review-1 1-1,1-2', 'dev-story 1-1']);
    expect(mainFlow(run)).not.toContain('create-tech-spec 1-1,1-2');
  });

  it('a missing decision counts as REQUIRED, with a warning', async () => {
    run = await runBatch({ developmentStatus: ONE_IN_BACKLOG, scenario: { stories: { '1-1': { techSpec: 'none' } } } }, 1);
    expect(mainFlow(run).slice(2, 5)).toEqual(['story-review-1 1-1', 'create-tech-spec 1-1', 'tech-spec-review-1 1-1']);
    expect(warnings(run)).toContainEqual(expect.stringContaining('no tech-spec decision for 1-1'));
  });

  it('a lone marker in a one-story cycle is that story\'s', async () => {
    run = await runBatch({ developmentStatus: ONE_IN_BACKLOG, scenario: { stories: { '1-1': { techSpec: 'lone-SKIP' } } } }, 1);
    expect(mainFlow(run)).not.toContain('create-tech-spec 1-1');
    expect(warnings(run)).toEqual([]);
  });
});

describe('critical issues', () => {
  it('critical issues in story-review-1 fork one haiku background chain, and the main flow goes on', async () => {
    run = await runBatch({ developmentStatus: ONE_IN_BACKLOG, scenario: { stories: { '1-1': { storyReview: [2] } } } }, 1);
    expect(background(run)).toEqual([
      { command: 'background-review-chain', stories: '1-1', reviewAttempt: null, attempt: 1, model: 'haiku', background: true },
    ]);
    expect(mainFlow(run)).toEqual(['create-story 1-1', 'story-discovery 1-1', 'story-review-1 1-1', 'dev-story 1-1', 'code-review-1 1-1', 'batch-commit 1-1']);
  });

  it('critical issues in tech-spec-review-1 fork the chain too; none in story-review-1 forks nothing', async () => {
    run = await runBatch(
      { developmentStatus: ONE_IN_BACKLOG, scenario: { stories: { '1-1': { techSpec: 'REQUIRED', storyReview: [0], techSpecReview: [1] } } } },
      1,
    );
    expect(background(run)).toHaveLength(1);
    const chainStart = run.events.findIndex((e) => e.type === 'command:start' && e.payload.background);
    const techReviewEnd = run.events.findIndex((e) => e.type === 'command:end' && e.payload.command === 'tech-spec-review-1');
    expect(chainStart).toBeGreaterThan(techReviewEnd);
  });

  it('a review without any marker counts as critical, with a warning', async () => {
    run = await runBatch({ developmentStatus: ONE_IN_BACKLOG, scenario: { stories: { '1-1': { storyReview: ['none'] } } } }, 1);
    expect(background(run)).toHaveLength(1);
    expect(warnings(run)).toContainEqual(expect.stringContaining('no critical-issues marker'));
  });

  it('no critical issues in either review starts no chain', async () => {
    run = await runBatch({ developmentStatus: ONE_IN_BACKLOG, scenario: { stories: { '1-1': { techSpec: 'REQUIRED' } } } }, 1);
    expect(background(run)).toEqual([]);
  });
});

const high = (what: string) => ({ high: 1, issues: [`HIGH ${what} in src/a.ts:10`] });
const critical = (what: string) => ({ critical: 1, issues: [`CRITICAL ${what} in src/b.ts:20`] });

describe('the code-review loop exits, in spec order', () => {
  it('rule 1: the same issues three times in a row block the story', async () => {
    const same = high('Missing null check');
    run = await runBatch({ developmentStatus: ONE_IN_REVIEW, scenario: { stories: { '1-1': { codeReview: [same, same, same] } } } }, 1);
    expect(mainFlow(run)).toEqual(['code-review-1 1-1', 'code-review-2 1-1 [haiku]', 'code-review-3 1-1 [haiku]']);
    expect(run.statusOf('1-1-alpha')).toBe('blocked');
    expect(run.events.find((e) => e.type === 'story:status')?.payload).toMatchObject({ status: 'blocked', reason: 'repeated-error-pattern' });
  });

  it('rule 2: zero issues mark the story done', async () => {
    run = await runBatch({ developmentStatus: ONE_IN_REVIEW, scenario: { stories: { '1-1': { codeReview: [high('Missing null check'), 'zero'] } } } }, 1);
    expect(mainFlow(run)).toEqual(['code-review-1 1-1', 'code-review-2 1-1 [haiku]', 'batch-commit 1-1']);
    expect(run.statusOf('1-1-alpha')).toBe('done');
  });

  it('rule 3: from attempt 3, only non-critical issues left mark the story done', async () => {
    run = await runBatch(
      { developmentStatus: ONE_IN_REVIEW, scenario: { stories: { '1-1': { codeReview: [high('Missing null check'), high('Unbounded retry'), high('Leaked file handle')] } } } },
      1,
    );
    expect(mainFlow(run)).toEqual(['code-review-1 1-1', 'code-review-2 1-1 [haiku]', 'code-review-3 1-1 [haiku]', 'batch-commit 1-1']);
    expect(run.statusOf('1-1-alpha')).toBe('done');
  });

  it('same counts with different issues are not a repeated pattern', async () => {
    run = await runBatch(
      { developmentStatus: ONE_IN_REVIEW, scenario: { stories: { '1-1': { codeReview: [critical('SQL injection'), critical('Secrets in logs'), critical('Path traversal'), 'zero'] } } } },
      1,
    );
    expect(mainFlow(run)).toEqual(['code-review-1 1-1', 'code-review-2 1-1 [haiku]', 'code-review-3 1-1 [haiku]', 'code-review-4 1-1 [haiku]', 'batch-commit 1-1']);
  });

  it('rule 4: critical issues that keep changing block the story at code-review-10', async () => {
    const flaws = [
      'SQL injection through the search box',
      'Secrets written to the debug log',
      'Path traversal when exporting files',
      'Session token never expires',
      'Race between two writers corrupts the index',
      'Unvalidated redirect after login',
      'Command injection via file names',
      'Private keys committed with fixtures',
      'Deserialisation of untrusted payloads',
      'Missing authorisation on the admin route',
    ];
    const changing = flaws.map((flaw) => critical(flaw));
    run = await runBatch({ developmentStatus: ONE_IN_REVIEW, scenario: { stories: { '1-1': { codeReview: changing } } } }, 1);
    expect(mainFlow(run)).toEqual([
      'code-review-1 1-1',
      ...Array.from({ length: 9 }, (_, i) => `code-review-${i + 2} 1-1 [haiku]`),
    ]);
    expect(run.statusOf('1-1-alpha')).toBe('blocked');
    expect(run.events.find((e) => e.type === 'story:status')?.payload).toMatchObject({ status: 'blocked', reason: 'hard-limit' });
  });
});
