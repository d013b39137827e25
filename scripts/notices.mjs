// Third-party notices for a bundle: every npm package esbuild put into it (from its metafile), with its version,
// licence, source and the full licence text. esbuild keeps only `/*!`/@license comments, and some packages (elkjs)
// put their licence elsewhere, so the notices are written beside the bundle instead.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** `node_modules/@scope/name/lib/x.js` -> the folder of the innermost package, or null for our own files. */
function packageDir(input) {
  const parts = input.split('/');
  const at = parts.lastIndexOf('node_modules');
  if (at < 0) return null;
  const nameLength = parts[at + 1]?.startsWith('@') ? 2 : 1;
  return parts.slice(0, at + 1 + nameLength).join('/');
}

function licenceText(dir) {
  const file = readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(f));
  return file ? readFileSync(path.join(dir, file), 'utf8').trim() : null;
}

const repositoryUrl = (repository) =>
  (typeof repository === 'string' ? repository : repository?.url ?? '').replace(/^git\+/, '').replace(/\.git$/, '') || null;

/**
 * Writes `outFile` listing the packages bundled per the metafile. `root` is where esbuild's input paths start.
 * Throws when a bundled package has no licence text, so a new dependency cannot ship without one.
 */
export function writeNotices(metafile, root, outFile, what) {
  const dirs = [...new Set(Object.keys(metafile.inputs).map(packageDir).filter(Boolean))].sort();
  const sections = dirs.map((dir) => {
    const full = path.join(root, dir);
    const manifest = JSON.parse(readFileSync(path.join(full, 'package.json'), 'utf8'));
    const text = licenceText(full);
    if (!text) throw new Error(`${manifest.name}@${manifest.version} is bundled into ${what} but has no licence file`);
    const source = repositoryUrl(manifest.repository) ?? manifest.homepage ?? `https://www.npmjs.com/package/${manifest.name}`;
    return [
      `## ${manifest.name} ${manifest.version}`,
      '',
      `Licence: ${manifest.license ?? 'see below'}. Source code: ${source} (and the npm package ${manifest.name}@${manifest.version}).`,
      '',
      '```',
      text.replace(/```/g, "'''"),
      '```',
    ].join('\n');
  });
  const names = sections.map((s) => s.split('\n')[0].slice(3));
  const elk = names.some((n) => n.startsWith('elkjs '));
  const header = [
    `# Third-party notices: ${what}`,
    '',
    `${what} bundles code from these ${names.length} npm packages, each under its own licence, reproduced below:`,
    `${names.join(', ')}.`,
    'sprint-runner itself is under the MIT licence (LICENSE at the package root).',
    ...(elk
      ? ['elkjs is offered under EPL-2.0 OR GPL-3.0-or-later and is used here under the Eclipse Public License 2.0;', 'its source code is available from its repository named below and in its npm package.']
      : []),
    '',
  ];
  writeFileSync(outFile, [...header, ...sections.flatMap((s) => [s, ''])].join('\n'));
  return dirs.length;
}
