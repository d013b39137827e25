// Bundles the dashboard (vanilla TypeScript) into web/dist with esbuild: one app.js, the HTML, and one CSS file.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeNotices } from '../scripts/notices.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, 'dist');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
// `--dev` keeps the bundle readable, with source maps; the default (npm run build, the package) is minified, without maps
const dev = process.argv.includes('--dev');
const result = await build({
  entryPoints: [path.join(here, 'src', 'main.ts')],
  bundle: true,
  format: 'esm',
  target: 'es2022',
  // elkjs and @statelyai/inspect are imported on demand: separate chunks keep them out of the first paint
  splitting: true,
  outdir: out,
  entryNames: 'app',
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: dev,
  minify: !dev,
  banner: { js: '/*! sprint-runner dashboard: bundled third-party code and its licences are listed in THIRD-PARTY-NOTICES.md */' },
  // the metafile lists what went in, for the notices; its paths are relative to this folder
  metafile: true,
  absWorkingDir: path.join(here, '..'),
  logLevel: 'warning',
  // elkjs's bundled build may reach for a web worker file it does not need here
  external: ['web-worker'],
});
copyFileSync(path.join(here, 'index.html'), path.join(out, 'index.html'));
// one stylesheet from web/styles/*.css, base first, so each view keeps its own file
const styles = readdirSync(path.join(here, 'styles'))
  .filter((f) => f.endsWith('.css'))
  .sort((a, b) => (a === 'base.css' ? -1 : b === 'base.css' ? 1 : a.localeCompare(b)));
writeFileSync(path.join(out, 'styles.css'), styles.map((f) => `/* ${f} */\n${readFileSync(path.join(here, 'styles', f), 'utf8')}`).join('\n'));
writeNotices(result.metafile, path.join(here, '..'), path.join(out, 'THIRD-PARTY-NOTICES.md'), 'The sprint-runner dashboard (web/dist)');
