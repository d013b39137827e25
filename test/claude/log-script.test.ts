// Checks that log-script calls are found in Bash commands, in both call forms, and nothing else is.
import { describe, expect, it } from 'vitest';
import { parseLogScriptCall } from '../../machines/claude/log-script.js';
import { shellSplit, splitCommands } from '../../machines/claude/shell-words.js';
import type { TaskEvent } from '../../machines/claude/types.js';
import { mutate, prng } from '../support/fuzz.js';

const orch = (taskId: string, status: 'start' | 'end', message = '', over: Partial<TaskEvent> = {}): TaskEvent => ({
  epic: '2', story: '2-3', command: 'dev-story', taskId, status, message, form: 'orchestrator', ...over,
});
const json = (taskId: string, status: 'start' | 'end', message = '', over: Partial<TaskEvent> = {}): TaskEvent => ({
  epic: '2', story: '2-3', command: 'code-review-1', taskId, status, message, form: 'json', ...over,
});

describe('shellSplit', () => {
  const rows: Array<[string, string[] | null]> = [
    ['a b  c', ['a', 'b', 'c']],
    [`'a b' "c d"`, ['a b', 'c d']],
    [`a'b'"c"d`, ['abcd']],
    [`"say \\"hi\\""`, ['say "hi"']],
    [`"a\\$b \\\\ \\x \\\``, null],
    [`"a\\$b \\\\ \\x \\\`"`, ['a$b \\ \\x `']],
    [`'it'\\''s'`, ["it's"]],
    [`a\\ b`, ['a b']],
    [`a\\\nb`, ['ab']],
    [`"line1\nline2"`, ['line1\nline2']],
    [`$'a\\nb\\'c'`, ["a\nb'c"]],
    [`echo $(date "+%s") \`id -u\``, ['echo', '$(date "+%s")', '`id -u`']],
    [`"x $(echo "inner") y"`, ['x $(echo "inner") y']],
    [`a && b || c; d | e & f`, ['a', '&&', 'b', '||', 'c', ';', 'd', '|', 'e', '&', 'f']],
    [`a 2>&1 >/dev/null`, ['a', '2>&', '1', '>', '/dev/null']],
    [`a # comment 'unterminated`, ['a']],
    [`a#b`, ['a#b']],
    [`''`, ['']],
    [`'unterminated`, null],
    [`"unterminated`, null],
    [``, []],
  ];
  for (const [input, expected] of rows) {
    it(JSON.stringify(input), () => {
      expect(shellSplit(input)).toEqual(expected);
    });
  }

  it('skips heredoc bodies when splitting commands', () => {
    const input = `cat <<'EOF' > notes.md\n_bmad/scripts/orchestrator.sh 1 1 x y start\nEOF\necho after`;
    expect(splitCommands(input)).toEqual([['cat'], ['echo', 'after']]);
  });
});

describe('parseLogScriptCall', () => {
  const rows: Array<{ name: string; command: string; events: TaskEvent[] }> = [
    { name: 'plain six arguments', command: `_bmad/scripts/orchestrator.sh 2 2-3 dev-story implement start "Implementing"`, events: [orch('implement', 'start', 'Implementing')] },
    { name: 'message omitted', command: `_bmad/scripts/orchestrator.sh 2 2-3 dev-story implement end`, events: [orch('implement', 'end')] },
    { name: 'empty message', command: `_bmad/scripts/orchestrator.sh 2 2-3 dev-story implement end ""`, events: [orch('implement', 'end')] },
    { name: './ prefix', command: `./_bmad/scripts/orchestrator.sh 2 2-3 dev-story tests start 'Writing tests'`, events: [orch('tests', 'start', 'Writing tests')] },
    { name: 'bash prefix', command: `bash _bmad/scripts/orchestrator.sh 2 2-3 dev-story tests end "ok"`, events: [orch('tests', 'end', 'ok')] },
    { name: 'absolute path', command: `/home/u/proj/_bmad/scripts/orchestrator.sh 2 2-3 dev-story tests end "done"`, events: [orch('tests', 'end', 'done')] },
    { name: 'path built from a variable', command: `"$PROJECT_ROOT/_bmad/scripts/orchestrator.sh" 2 2-3 dev-story tests end done`, events: [orch('tests', 'end', 'done')] },
    { name: 'escaped quotes in message', command: `_bmad/scripts/orchestrator.sh 2 2-3 dev-story implement end "Fixed \\"null\\" case, cost \\$0"`, events: [orch('implement', 'end', 'Fixed "null" case, cost $0')] },
    { name: "apostrophe in single quotes", command: `_bmad/scripts/orchestrator.sh 2 2-3 dev-story implement end 'it'\\''s done'`, events: [orch('implement', 'end', "it's done")] },
    { name: 'message spanning lines', command: `_bmad/scripts/orchestrator.sh 2 2-3 dev-story implement end "one\ntwo"`, events: [orch('implement', 'end', 'one\ntwo')] },
    {
      name: '&& chain with two calls',
      command: `cd /repo && _bmad/scripts/orchestrator.sh 2 2-3 dev-story a start "A" && npm test && _bmad/scripts/orchestrator.sh 2 2-3 dev-story a end "A done"`,
      events: [orch('a', 'start', 'A'), orch('a', 'end', 'A done')],
    },
    {
      name: '; || and newline separators',
      command: `_bmad/scripts/orchestrator.sh 2 2-3 dev-story a start;_bmad/scripts/orchestrator.sh 2 2-3 dev-story b start || true\n_bmad/scripts/orchestrator.sh 2 2-3 dev-story c start`,
      events: [orch('a', 'start'), orch('b', 'start'), orch('c', 'start')],
    },
    { name: 'redirection after the call', command: `_bmad/scripts/orchestrator.sh 2 2-3 dev-story a end "x" 2>&1 >/dev/null`, events: [orch('a', 'end', 'x')] },
    { name: 'env assignment prefix', command: `LOG_LEVEL=debug _bmad/scripts/orchestrator.sh 2 2-3 dev-story a end`, events: [orch('a', 'end')] },
    { name: 'bash -c wrapper', command: `bash -c '_bmad/scripts/orchestrator.sh 2 2-3 dev-story a end "x y"'`, events: [orch('a', 'end', 'x y')] },
    {
      name: 'JSON form',
      command: `_bmad/scripts/sprint-log.sh '{"epic_id":"2","story_id":"2-3","command":"code-review-1","task_id":"review","status":"start","message":"Reviewing"}'`,
      events: [json('review', 'start', 'Reviewing')],
    },
    {
      name: 'JSON form with spaces, quotes and an apostrophe in the message',
      command: `./_bmad/scripts/sprint-log.sh '{"epic_id": 2, "story_id": "2-3", "command": "code-review-1", "task_id": "review", "status": "end", "message": "found 3 \\"HIGH\\" issues, it'\\''s bad; fix && retry"}'`,
      events: [json('review', 'end', `found 3 "HIGH" issues, it's bad; fix && retry`)],
    },
    {
      name: 'JSON form in double quotes',
      command: `_bmad/scripts/sprint-log.sh "{\\"epic_id\\":\\"2\\",\\"story_id\\":\\"2-3\\",\\"command\\":\\"code-review-1\\",\\"task_id\\":\\"review\\",\\"status\\":\\"end\\"}"`,
      events: [json('review', 'end')],
    },
    {
      name: 'JSON form, bad status',
      command: `_bmad/scripts/sprint-log.sh '{"epic_id":"2","story_id":"2-3","command":"c","task_id":"t","status":"progress"}'`,
      events: [],
    },
    { name: 'JSON form, broken JSON', command: `_bmad/scripts/sprint-log.sh '{"epic_id":"2",'`, events: [] },
    { name: 'JSON form, two arguments', command: `_bmad/scripts/sprint-log.sh '{}' extra`, events: [] },
    { name: 'too few arguments', command: `_bmad/scripts/orchestrator.sh 2 2-3 dev-story start`, events: [] },
    { name: 'too many arguments (unquoted message)', command: `_bmad/scripts/orchestrator.sh 2 2-3 dev-story a end Done with it`, events: [] },
    { name: 'status other than start/end', command: `_bmad/scripts/orchestrator.sh 2 2-3 dev-story a progress "x"`, events: [] },
    { name: 'unterminated quote', command: `_bmad/scripts/orchestrator.sh 2 2-3 dev-story a end "oops`, events: [] },
    { name: 'unrelated command', command: `npm test && git status`, events: [] },
    { name: 'the script is only mentioned', command: `cat _bmad/scripts/orchestrator.sh`, events: [] },
    { name: 'a different orchestrator.sh', command: `./scripts/orchestrator.sh 2 2-3 dev-story a end "x"`, events: [] },
    { name: 'inside an echo string', command: `echo "_bmad/scripts/orchestrator.sh 2 2-3 dev-story a end x"`, events: [] },
    { name: 'inside a heredoc body', command: `cat > f <<EOF\n_bmad/scripts/orchestrator.sh 2 2-3 dev-story a end x\nEOF`, events: [] },
    { name: 'empty command', command: ``, events: [] },
  ];
  for (const row of rows) {
    it(row.name, () => {
      expect(parseLogScriptCall(row.command)).toEqual(row.events);
    });
  }

  it('never throws on 2,000 mutated and random commands', () => {
    const random = prng(424242);
    const bases = rows.map((r) => r.command).filter((c) => c !== '');
    const alphabet = `'"\\$\`(){}[];&|<> \n\t#=-_/abc0123456789`;
    for (let i = 0; i < 2000; i++) {
      const input = mutate(random, bases[Math.floor(random() * bases.length)]!, alphabet);
      expect(Array.isArray(parseLogScriptCall(input))).toBe(true);
      expect(() => shellSplit(input)).not.toThrow();
    }
  });
});
