// Every piece of UI state lives in localStorage under one key, so a reload brings back tabs, filters, zoom and inputs.

const KEY = 'sprint-runner.ui';

export interface UiState {
  tab: string;
  cycles: string;
  logFilter: { text: string; types: string[] };
  storiesFilter: { epic: string; status: string };
  storiesSort: { column: string; descending: boolean };
  expandedEpics: string[];
  timeline: { zoom: number; blockMinutes: number; labelWidth: number; showAll: boolean; follow?: boolean; hidden?: string[] };
  /** browser notifications: off until the operator turns them on (the permission is asked then, once) */
  notify: boolean;
  /** stories expanded or collapsed by hand in the Activity tab (story id -> open) */
  activityOpen: Record<string, boolean>;
  inspector: { machine: string; stately: boolean; zoom?: Record<string, number>; follow?: boolean };
}

export const DEFAULT_UI: UiState = {
  tab: 'run',
  cycles: '2',
  // machine state changes are many and have their own tab
  logFilter: { text: '', types: ['batch', 'cycle', 'command:start', 'command:progress', 'command:end', 'story:status', 'warning', 'error', 'state'] },
  storiesFilter: { epic: '', status: '' },
  storiesSort: { column: 'id', descending: false },
  expandedEpics: [],
  timeline: { zoom: 1, blockMinutes: 5, labelWidth: 220, showAll: true, follow: true, hidden: [] },
  notify: false,
  activityOpen: {},
  inspector: { machine: 'batch', stately: false },
};

function load(): UiState {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return structuredClone(DEFAULT_UI);
    const saved = JSON.parse(raw) as Partial<UiState>;
    // merge per section, so a state saved by an older build still loads
    const merged = structuredClone(DEFAULT_UI) as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(saved)) {
      const base = merged[key];
      merged[key] = base && typeof base === 'object' && !Array.isArray(base) && value && typeof value === 'object' ? { ...base, ...value } : value;
    }
    return merged as unknown as UiState;
  } catch {
    return structuredClone(DEFAULT_UI);
  }
}

let current = load();

export function ui(): Readonly<UiState> {
  return current;
}

/** Changes one section and saves at once: a reload a moment later must still see it. */
export function setUi<K extends keyof UiState>(key: K, value: UiState[K]): void {
  current = { ...current, [key]: value };
  try {
    localStorage.setItem(KEY, JSON.stringify(current));
  } catch {
    // storage full or disabled: the UI still works, it just will not remember
  }
}
