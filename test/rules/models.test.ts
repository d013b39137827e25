// The project's model per command: sprint-runner.models.yaml next to the database, validated with clear errors.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModelOverrides, modelFor, MODELS_FILE, parseModelOverrides } from '../../machines/project/models.js';

const spec = (command: string, kind: string, model: string | null = null) => ({ command, kind, model }) as Parameters<typeof modelFor>[1];

describe('model overrides', () => {
  it('override the spec routing by logged command first, then by kind; default means the CLI default', () => {
    const overrides = parseModelOverrides('models:\n  dev-story: sonnet\n  code-review: opus\n  code-review-2: default\n', 'f.yaml');
    expect(modelFor(overrides, spec('dev-story', 'dev-story'))).toBe('sonnet');
    expect(modelFor(overrides, spec('code-review-1', 'code-review'))).toBe('opus');
    expect(modelFor(overrides, spec('code-review-2', 'code-review', 'haiku'))).toBeNull();
    // not named: the spec's routing stays (haiku for code-review >= 2, the chain)
    expect(modelFor(overrides, spec('background-review-chain', 'background-review-chain', 'haiku'))).toBe('haiku');
  });

  it('reports every mistake at once, naming the file and the key', () => {
    expect(() => parseModelOverrides('models:\n  dev-stroy: sonnet\n  code-review-x: opus\n  create-story: 3\nmodel: x\n', '/p/sprint-runner.models.yaml')).toThrow(
      /^\/p\/sprint-runner\.models\.yaml:\n {2}unknown key `model`[^\n]*\n {2}models\.dev-stroy: unknown command[^\n]*\n {2}models\.code-review-x: unknown command[^\n]*\n {2}models\.create-story: 3 is not a model name/,
    );
    expect(() => parseModelOverrides('models: [a]', 'f.yaml')).toThrow('`models` must be a mapping');
    expect(() => parseModelOverrides('models: {a: [', 'f.yaml')).toThrow(/^f\.yaml: not valid YAML/);
    expect(() => parseModelOverrides('models:\n  dev-story: "sonnet; rm -rf /"\n', 'f.yaml')).toThrow('is not a model name');
  });

  it('is read from the database folder; no file means no override', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'models-'));
    try {
      expect(loadModelOverrides(dir).size).toBe(0);
      writeFileSync(path.join(dir, MODELS_FILE), 'models:\n  dev-story: claude-sonnet-4-5\n');
      expect([...loadModelOverrides(dir)]).toEqual([['dev-story', 'claude-sonnet-4-5']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
