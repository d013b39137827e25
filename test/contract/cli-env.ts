// The pinned real CLI's path and the environment the contract tests give it: a throwaway HOME, the mock as the API, nothing else reachable.
import { homedir } from 'node:os';
import { join } from 'node:path';

export const PINNED_VERSION = '2.1.197';
export const CLAUDE_BIN =
  process.env['SPRINT_RUNNER_CLAUDE_BIN'] ||
  join(process.env['SPRINT_RUNNER_CLAUDE_CACHE'] || join(homedir(), '.cache', 'sprint-runner', `claude-code-${PINNED_VERSION}`), 'node_modules', '.bin', 'claude');

export function contractEnv(mockUrl: string, home: string, tmp: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'],
    HOME: home,
    TMPDIR: tmp,
    LANG: 'C.UTF-8',
    ANTHROPIC_BASE_URL: mockUrl,
    ANTHROPIC_API_KEY: 'sk-test-fake',
    CLAUDE_CODE_MAX_RETRIES: '1',
    // bypassPermissions is refused for root without it
    IS_SANDBOX: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    // What still wants api.anthropic.com goes through this "proxy", which records and refuses it. Not
    // CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: it would also drop the title request a real run makes.
    HTTPS_PROXY: mockUrl,
    NO_PROXY: '127.0.0.1,localhost',
  };
}
