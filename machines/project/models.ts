// The project's model per command (issue 14): a small YAML file next to the database, over the spec's routing.
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { CommandSpec } from '../types.js';
import { TEMPLATE_FOR_COMMAND, type CommandKind } from './layout.js';

/** Read from the database's folder: the settings of this runner on this project, not of the project's code. */
export const MODELS_FILE = 'sprint-runner.models.yaml';

const KINDS: readonly string[] = [...Object.keys(TEMPLATE_FOR_COMMAND), 'project-context', 'batch-commit'] satisfies string[];
/** review commands run as `<kind>-<n>`: a key may name one attempt */
const ATTEMPT_KINDS = ['code-review', 'story-review', 'tech-spec-review'];
/** an alias (`opus`, `sonnet`, `haiku`) or a full model name; `default` leaves the choice to the CLI */
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._:@\-[\]]{0,99}$/;

/** command or kind -> model; null = the CLI's default model */
export type ModelOverrides = ReadonlyMap<string, string | null>;

/**
 * Parses the file's text. Every mistake is reported at once, naming the file and the key, because the runner
 * reads this at start-up and a typo must not silently run a night on the wrong model.
 */
export function parseModelOverrides(text: string, file: string): ModelOverrides {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new Error(`${file}: not valid YAML: ${(error as Error).message}`);
  }
  if (raw === null || raw === undefined) return new Map();
  const problems: string[] = [];
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${file}: the top level must be a mapping with a \`models:\` key`);
  for (const key of Object.keys(raw)) if (key !== 'models') problems.push(`unknown key \`${key}\` (only \`models\` is read)`);
  const models = (raw as Record<string, unknown>)['models'] ?? {};
  const out = new Map<string, string | null>();
  if (typeof models !== 'object' || models === null || Array.isArray(models)) {
    problems.push('`models` must be a mapping of command -> model, e.g. `dev-story: sonnet`');
  } else {
    for (const [command, model] of Object.entries(models)) {
      const attempt = /^(.*)-(\d+)$/.exec(command);
      const known = KINDS.includes(command) || (attempt !== null && ATTEMPT_KINDS.includes(attempt[1]!) && Number(attempt[2]) >= 1);
      if (!known) {
        problems.push(`models.${command}: unknown command (use one of ${KINDS.join(', ')}, or ${ATTEMPT_KINDS.map((k) => `${k}-N`).join(', ')})`);
        continue;
      }
      if (typeof model !== 'string' || !MODEL_NAME.test(model)) {
        problems.push(`models.${command}: ${JSON.stringify(model)} is not a model name (an alias such as sonnet, a full name, or default)`);
        continue;
      }
      out.set(command, model === 'default' ? null : model);
    }
  }
  if (problems.length > 0) throw new Error(`${file}:\n  ${problems.join('\n  ')}`);
  return out;
}

/** The overrides in `<dbDir>/sprint-runner.models.yaml`, or none when the file does not exist. */
export function loadModelOverrides(dbDir: string): ModelOverrides {
  const file = path.join(dbDir, MODELS_FILE);
  if (!existsSync(file)) return new Map();
  return parseModelOverrides(readFileSync(file, 'utf8'), file);
}

/** The model a command runs with: the logged name (`code-review-2`) first, then its kind, then the spec's routing. */
export function modelFor(overrides: ModelOverrides, spec: Pick<CommandSpec, 'command' | 'kind' | 'model'>): string | null {
  if (overrides.has(spec.command)) return overrides.get(spec.command)!;
  if (overrides.has(spec.kind as CommandKind)) return overrides.get(spec.kind)!;
  return spec.model;
}
