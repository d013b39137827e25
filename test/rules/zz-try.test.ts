import { it } from 'vitest';
import { parseCodeReview, patternsSimilar } from '../../machines/rules/code-review.js';
it('x', () => {
  const t = `Let me look at the code.
## 🔥 CODE REVIEW FINDINGS
**Issues Found:** 0 High, 2 Medium, 1 Low

## 🔴 CRITICAL ISSUES
- Tasks marked [x] but not implemented in \`src/a.ts:42\`
  - detail line
- AC 3 missing

## 🟡 MEDIUM ISSUES
1. **[MEDIUM]** Unused import in src/b.ts:3 → Fixed: removed
2. Error handling swallowed in src/c.ts

Some prose after.
- not an issue

| # | Severity | Issue | File |
|---|---|---|---|
| 1 | 🟢 LOW | Typo in comment | src/d.ts:5 |

### Issue 4: Race condition in queue
- **Severity**: HIGH
- **File**: \`src/q.ts:10\`

- High memory use in loop
- Low-hanging fruit: rename
- **HIGH**: Missing null check on user.name in src/a.ts:42

HIGHEST SEVERITY: HIGH
Issues: 0 CRITICAL, 2 HIGH, 2 MEDIUM, 1 LOW
`;
  const r = parseCodeReview(t);
  console.log(JSON.stringify(r, null, 1));
  console.log(r.pattern);
});
