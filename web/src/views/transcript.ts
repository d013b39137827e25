// A command's transcript as a readable conversation: markdown text (built as DOM text nodes, never parsed as HTML), folded tool calls, the result.
import { getJson } from '../api.js';
import { formatCost, formatDuration, h } from '../dom.js';

type Json = Record<string, unknown>;

/** GET /api/commands/:id/transcript */
export interface TranscriptJson {
  commandId: number;
  command: string;
  attempt: number;
  sessionId: string | null;
  continuedFrom: string | null;
  resumeCommand: string | null;
  lines: number;
  bytes: number;
  cut: { lines: number; bytes: number } | null;
  head: Json[];
  tail: Json[];
}

// ------------------------------------------------------------------------------------------ markdown subset

/** `code`, **bold**, *em* / _em_: everything else stays text, so no markup in an agent's text can reach the DOM. */
function inline(text: string): Node[] {
  const out: Node[] = [];
  // `_em_` only between non-word characters: snake_case and __dunder__ stay text
  const pattern = /(`[^`\n]+`|\*\*[^*\n]+\*\*|\*[^*\s][^*\n]*\*|(?<![\w])_[^_\s][^_\n]*_(?![\w]))/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    if (match.index > last) out.push(document.createTextNode(text.slice(last, match.index)));
    const token = match[0];
    if (token.startsWith('`')) out.push(h('code', {}, token.slice(1, -1)));
    else if (token.startsWith('**')) out.push(h('strong', {}, token.slice(2, -2)));
    else out.push(h('em', {}, token.slice(1, -1)));
    last = match.index + token.length;
  }
  if (last < text.length) out.push(document.createTextNode(text.slice(last)));
  return out;
}

/** Fenced code, headings, bullet and numbered lists, paragraphs. */
export function renderMarkdown(text: string): HTMLElement {
  const root = h('div', { class: 'md' });
  const lines = text.split('\n');
  let paragraph: string[] = [];
  let list: HTMLElement | null = null;
  const flush = () => {
    if (paragraph.length) root.append(h('p', {}, ...inline(paragraph.join(' '))));
    paragraph = [];
    list = null;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fence = /^```(\S*)/.exec(line);
    if (fence) {
      flush();
      const code: string[] = [];
      while (++i < lines.length && !/^```/.test(lines[i]!)) code.push(lines[i]!);
      root.append(h('pre', { class: 'md-code', 'data-lang': fence[1] || null }, code.join('\n')));
      continue;
    }
    const heading = /^(#{1,4})\s+(.*)$/.exec(line);
    if (heading) {
      flush();
      root.append(h(`h${Math.min(6, heading[1]!.length + 3)}` as 'h4', {}, ...inline(heading[2]!)));
      continue;
    }
    const item = /^\s*(?:[-*+]|(\d+)[.)])\s+(.*)$/.exec(line);
    if (item) {
      if (paragraph.length) {
        root.append(h('p', {}, ...inline(paragraph.join(' '))));
        paragraph = [];
      }
      const tag = item[1] ? 'ol' : 'ul';
      if (!list || list.tagName.toLowerCase() !== tag) root.append((list = h(tag, {})));
      list.append(h('li', {}, ...inline(item[2]!)));
      continue;
    }
    if (line.trim() === '') flush();
    else {
      list = null;
      paragraph.push(line.trim());
    }
  }
  flush();
  return root;
}

// ------------------------------------------------------------------------------------------ conversation

const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v, null, 2));

/** A tool result's content: a string, or blocks of text. */
function resultText(content: unknown): string {
  if (Array.isArray(content)) return content.map((b) => (typeof b === 'object' && b && 'text' in b ? str((b as Json)['text']) : str(b))).join('\n');
  return str(content);
}

function diff(oldText: string, newText: string): HTMLElement {
  const pre = h('pre', { class: 'transcript-diff' });
  for (const line of oldText.split('\n')) pre.append(h('span', { class: 'del' }, `- ${line}\n`));
  for (const line of newText.split('\n')) pre.append(h('span', { class: 'add' }, `+ ${line}\n`));
  return pre;
}

/** The call itself, as a reader wants to see it: the shell command, the file and its diff, the file read. */
function toolSummary(name: string, input: Json): { title: string; body: HTMLElement | null } {
  const file = str(input['file_path'] ?? input['path'] ?? input['notebook_path']);
  switch (name) {
    case 'Bash':
      return { title: `$ ${str(input['command'])}`, body: input['description'] ? h('div', { class: 'muted' }, str(input['description'])) : null };
    case 'Edit':
      return { title: `Edit ${file}`, body: diff(str(input['old_string']), str(input['new_string'])) };
    case 'MultiEdit': {
      const edits = Array.isArray(input['edits']) ? (input['edits'] as Json[]) : [];
      return { title: `Edit ${file} (${edits.length} changes)`, body: h('div', {}, ...edits.map((e) => diff(str(e['old_string']), str(e['new_string'])))) };
    }
    case 'Write':
      return { title: `Write ${file}`, body: h('pre', { class: 'transcript-diff' }, h('span', { class: 'add' }, str(input['content']))) };
    case 'Read':
      return { title: `Read ${file}`, body: null };
    default:
      return { title: `${name}`, body: h('pre', { class: 'mono' }, JSON.stringify(input, null, 2)) };
  }
}

function resultLine(entry: Json): HTMLElement {
  const error = entry['is_error'] === true;
  const errors = Array.isArray(entry['errors']) ? (entry['errors'] as unknown[]).map(str) : [];
  const parts = [
    `result: ${str(entry['subtype'])}${error ? ' (error)' : ''}`,
    typeof entry['num_turns'] === 'number' ? `${entry['num_turns']} turns` : '',
    typeof entry['duration_ms'] === 'number' ? formatDuration(entry['duration_ms']) : '',
    typeof entry['total_cost_usd'] === 'number' ? formatCost(entry['total_cost_usd']) : '',
  ].filter(Boolean);
  return h(
    'div',
    { class: 'transcript-result', 'data-testid': 'transcript-result', 'data-error': error ? 'true' : null },
    h('div', { class: 'mono' }, parts.join(' · ')),
    ...errors.map((e) => h('div', { class: 'transcript-error' }, e)),
    entry['result'] ? renderMarkdown(str(entry['result'])) : null,
  );
}

/** One element per line worth reading; tool results are folded into the call they answer. */
export function renderConversation(entries: readonly Json[], cut: TranscriptJson['cut'], cutAt: number): HTMLElement {
  const root = h('div', { class: 'transcript-conversation', 'data-testid': 'transcript-conversation' });
  const calls = new Map<string, HTMLDetailsElement>();
  entries.forEach((entry, index) => {
    if (index === cutAt && cut) {
      root.append(h('div', { class: 'transcript-cut', 'data-testid': 'transcript-cut' }, `… ${cut.lines.toLocaleString('en-US')} lines (${Math.round(cut.bytes / 1024).toLocaleString('en-US')} KB) cut here by the size cap …`));
    }
    const type = entry['type'];
    if (type === 'system' && entry['subtype'] === 'init') {
      root.append(h('div', { class: 'transcript-note muted' }, `session ${str(entry['session_id'])} · ${str(entry['model'])} · ${str(entry['cwd'])}`));
    } else if (type === 'assistant') {
      const message = (entry['message'] ?? {}) as Json;
      for (const block of (Array.isArray(message['content']) ? message['content'] : []) as Json[]) {
        if (block['type'] === 'text') root.append(h('div', { class: 'transcript-text', 'data-testid': 'transcript-text' }, renderMarkdown(str(block['text']))));
        if (block['type'] === 'tool_use') {
          const { title, body } = toolSummary(str(block['name']), (block['input'] ?? {}) as Json);
          const details = h('details', { class: 'transcript-tool', 'data-testid': 'transcript-tool', 'data-tool': str(block['name']) }, h('summary', { class: 'mono' }, title), body);
          calls.set(str(block['id']), details);
          root.append(details);
        }
      }
    } else if (type === 'user') {
      const message = (entry['message'] ?? {}) as Json;
      for (const block of (Array.isArray(message['content']) ? message['content'] : []) as Json[]) {
        if (block['type'] !== 'tool_result') continue;
        const error = block['is_error'] === true;
        const out = h('pre', { class: 'transcript-tool-result', 'data-error': error ? 'true' : null }, resultText(block['content']));
        const call = calls.get(str(block['tool_use_id']));
        if (call) {
          call.append(out);
          if (error) call.setAttribute('data-error', 'true');
        } else root.append(out);
      }
    } else if (type === 'result') {
      root.append(resultLine(entry));
    } else if (type === 'rate_limit_event') {
      root.append(h('div', { class: 'transcript-note transcript-error' }, `usage limit: ${str((entry['rate_limit_info'] as Json | undefined)?.['status'])}`));
    } else if (type === 'sprint-runner/unreadable') {
      root.append(h('pre', { class: 'transcript-error mono' }, str(entry['line'])));
    }
  });
  return root;
}

// ------------------------------------------------------------------------------------------ the panel

/** Which command row a dashboard command (run id and attempt) is: the API lists them with their ids. */
async function commandId(ref: { runId: string; attempt: number; story: string | null }): Promise<number | null> {
  const rows = await getJson<{ id: number; runId: string; attempt: number }[]>(`/api/commands${ref.story ? `?story=${encodeURIComponent(ref.story)}` : ''}`);
  return rows.find((row) => row.runId === ref.runId && row.attempt === ref.attempt)?.id ?? null;
}

/** Opens the transcript of one attempt in a modal dialog; Escape or the close button ends it. */
export async function openTranscript(ref: { runId: string; attempt: number; story: string | null }): Promise<void> {
  const body = h('div', { class: 'transcript-body' }, h('div', { class: 'muted' }, 'Loading…'));
  const dialog = h(
    'dialog',
    { class: 'transcript-dialog', 'data-testid': 'transcript' },
    h('header', { class: 'transcript-head' }, h('strong', {}, `${ref.runId} · attempt ${ref.attempt}`), h('button', { type: 'button', 'data-testid': 'transcript-close', onclick: () => dialog.close() }, 'Close')),
    body,
  );
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  try {
    const id = await commandId(ref);
    if (id === null) throw new Error('this command is not recorded yet');
    const t = await getJson<TranscriptJson>(`/api/commands/${id}/transcript`);
    body.replaceChildren(
      h(
        'div',
        { class: 'transcript-meta' },
        h('span', {}, `${t.lines.toLocaleString('en-US')} lines · ${Math.round(t.bytes / 1024).toLocaleString('en-US')} KB`),
        t.continuedFrom ? h('span', { class: 'muted' }, `continued session ${t.continuedFrom}`) : null,
        h('a', { href: `/api/commands/${id}/transcript.jsonl`, download: '', 'data-testid': 'transcript-download' }, 'Download .jsonl'),
      ),
      t.resumeCommand
        ? h('div', { class: 'transcript-resume' }, 'Continue it by hand: ', h('code', { 'data-testid': 'transcript-resume' }, t.resumeCommand))
        : '',
      renderConversation([...t.head, ...t.tail], t.cut, t.head.length),
    );
  } catch (error) {
    body.replaceChildren(h('div', { class: 'transcript-error' }, `No transcript: ${(error as Error).message}`));
  }
}
