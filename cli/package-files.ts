// Where the installed package's own files are: its root, its version, the simulated CLI and the demo project.
import { cpSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface Manifest {
  name?: string;
  version?: string;
}

let root: { dir: string; manifest: Manifest } | undefined;

function findRoot(): { dir: string; manifest: Manifest } {
  if (root) return root;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = path.join(dir, 'package.json');
    const manifest = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Manifest) : undefined;
    if (manifest?.name === 'sprint-runner') return (root = { dir, manifest });
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find the sprint-runner package root');
    dir = parent;
  }
}

/** The folder holding package.json, from the sources (tests) and from the bundled `dist/cli.js` alike. */
export const packageRoot = (): string => findRoot().dir;

export const packageVersion = (): string => findRoot().manifest.version ?? 'unknown';

export const SIMULATED_CLAUDE = () => path.join(packageRoot(), 'fixtures', 'sim-claude', 'claude.mjs');

/** Copies the demo project to a fresh temporary folder: the bundled one is never written. */
export function copyDemoProject(): string {
  const target = mkdtempSync(path.join(tmpdir(), 'sprint-runner-demo-'));
  cpSync(path.join(packageRoot(), 'fixtures', 'demo-project'), target, { recursive: true });
  return target;
}
