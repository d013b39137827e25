// Bundles the `sprint-runner` command, as tsc built it, into one file in place (dist/cli.js). Node then loads one
// module instead of several hundred (Kysely alone is ~300 files): the process serves ~200 ms sooner after a spawn,
// which is most of the resume time `npm run bench` measures. The native better-sqlite3 stays a package.
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeNotices } from './notices.mjs';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist', 'cli.js');
const result = await build({
  entryPoints: [cli],
  outfile: cli,
  allowOverwrite: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // ws's optional native helpers are looked up at run time and may be absent
  external: ['better-sqlite3', 'bufferutil', 'utf-8-validate'],
  // the CommonJS packages inside the bundle (ws, better-sqlite3's loader) call require
  // (readable, not minified: a user's bug report then quotes a stack trace we can follow)
  banner: {
    js: "/*! sprint-runner: bundled third-party code and its licences are listed in THIRD-PARTY-NOTICES.md beside this file */\nimport { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);",
  },
  // the metafile lists what went in, for the notices; its paths are relative to this folder
  metafile: true,
  absWorkingDir: root,
  logLevel: 'warning',
});
writeNotices(result.metafile, root, path.join(root, 'dist', 'THIRD-PARTY-NOTICES.md'), 'The sprint-runner command (dist/cli.js)');
