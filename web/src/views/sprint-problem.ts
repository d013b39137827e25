// The notice the Epics and Stories tabs show in place of their stories when sprint-status cannot be read.
import { h, setText } from '../dom.js';
import type { Store } from '../store.js';

/** An alert panel, hidden while sprint-status reads fine; `update()` follows the store. */
export function sprintProblem(store: Store): { el: HTMLElement; update(): void } {
  const el = h('div', { class: 'panel sprint-problem', 'data-testid': 'sprint-problem', role: 'alert', hidden: true });
  return {
    el,
    update() {
      el.hidden = store.sprintError === null;
      setText(el, store.sprintError ? `sprint-status cannot be read: ${store.sprintError}` : '');
    },
  };
}
