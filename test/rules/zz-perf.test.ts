import { it } from 'vitest';
import { parseCodeReview } from '../../machines/rules/code-review.js';
import { parseTechSpecDecisions, parseCriticalIssues } from '../../machines/rules/markers.js';
import { parseSprintStatus } from '../../machines/rules/sprint-status.js';
const N = 50000;
const cases: Record<string, string> = {
  spaces: '# ' + ' '.repeat(N) + 'x',
  hashes: '# a' + '#'.repeat(N) + 'x',
  stars: '- [HIGH] ' + '*'.repeat(N) + 'x',
  brackets: '- [HIGH] ' + '['.repeat(N),
  colons: '- [HIGH] a' + ':1'.repeat(N) + 'x',
  longtoken: '- [HIGH] ' + 'a.'.repeat(N) + 'x',
  longword: '- [HIGH] ' + 'ab'.repeat(N),
  trailing: '- x' + ' '.repeat(N) + 'y (HIGH)',
  trailing2: '- x' + ' '.repeat(N) + 'y',
  listspaces: '-' + ' '.repeat(N) + 'x',
  highest: 'HIGHEST' + ' '.repeat(N) + 'x',
  issues: 'issues' + ' '.repeat(N) + 'x',
  ids: '1-a' + '-a'.repeat(N),
  dashes: '- [HIGH] x' + ' -'.repeat(N),
  tableBig: '|' + ' HIGH |'.repeat(N),
  manyLines: '- [HIGH] issue number one in src/a.ts\n'.repeat(N / 10),
  manyDistinct: Array.from({length: 3000}, (_, i) => `- [HIGH] issue ${i.toString(36)} ${(i*7).toString(36)} in src/f${i}.ts`).join('\n'),
};
it('perf', () => {
  for (const [k, t] of Object.entries(cases)) {
    for (const [name, f] of [['review', () => parseCodeReview(t + '\nHIGHEST SEVERITY: HIGH')], ['tech', () => parseTechSpecDecisions(t + '[TECH-SPEC-DECISION: SKIP]', ['1-1', '1-2'])], ['crit', () => parseCriticalIssues(t)], ['yaml', () => parseSprintStatus('development_status:\n  a: ' + t.slice(0, 5000), 'f')]] as const) {
      const s = performance.now(); f(); const d = performance.now() - s;
      if (d > 50) console.log(k, name, d.toFixed(0), 'ms');
    }
  }
});
