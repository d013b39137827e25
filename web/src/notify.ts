// What the operator sees from another tab or window: the page title and favicon show the batch's state, and browser
// notifications (off by default; the permission is asked once, when turned on) tell of a batch's end, an error, a
// blocked story and a usage limit.
import { h, setText } from './dom.js';
import { setUi, ui } from './persist.js';
import type { Store } from './store.js';
import type { ApiState, WireEvent } from './types.js';

const COLOURS: Record<ApiState['status'], string> = {
  idle: '#8b98a7',
  running: '#a371f7',
  paused: '#d29922',
  stopping: '#d29922',
  stopped: '#d29922',
  interrupted: '#d29922',
  completed: '#3fb950',
  error: '#f85149',
  abandoned: '#8b98a7',
};

/** The page title: the state first, so it reads in a narrow tab. */
export function titleOf(state: ApiState, problems: number): string {
  const cycle = state.cycle && state.status === 'running' ? ` ${state.cycle.current}/${state.cycle.max}` : '';
  const story = state.currentStory && state.status === 'running' ? ` · ${state.currentStory.shortId}` : '';
  return `${problems ? `(${problems}) ` : ''}${state.status}${cycle}${story} · sprint-runner`;
}

/** A dot in the state's colour, with a red ring when there are problems. */
export function faviconOf(status: ApiState['status'], problems: number): string {
  const ring = problems ? `<circle cx="16" cy="16" r="14" fill="none" stroke="#f85149" stroke-width="4"/>` : '';
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><circle cx="16" cy="16" r="10" fill="${COLOURS[status]}"/>${ring}</svg>`;
  return `data:image/svg+xml,${encodeURIComponent(svg)}`;
}

/** The notification an event deserves, if any. */
export function notificationOf(event: WireEvent): { title: string; body: string } | null {
  switch (event.type) {
    case 'batch:end':
      return { title: `Batch ${event.payload.status}`, body: `${event.payload.message} (${event.payload.cyclesCompleted} cycles completed)` };
    case 'error':
      return { title: 'Error', body: event.payload.message };
    case 'story:status':
      return event.payload.status === 'blocked' ? { title: `Story ${event.payload.story.shortId} blocked`, body: event.payload.reason } : null;
    case 'usage-limit':
      return { title: 'Usage limit reached', body: `Waiting until ${new Date(event.payload.until).toLocaleTimeString()}, then the batch goes on by itself` };
    default:
      return null;
  }
}

export function mountNotifications(bar: HTMLElement, store: Store, problems: () => number): void {
  const supported = typeof Notification !== 'undefined';
  const box = h('input', { type: 'checkbox', 'data-testid': 'notify-toggle' });
  const note = h('span', { class: 'muted', 'data-testid': 'notify-note' });
  box.checked = supported && ui().notify && Notification.permission === 'granted';
  box.disabled = !supported;
  bar.append(h('label', { class: 'notify', 'data-tip': 'Tell me when a batch ends, fails, blocks a story or waits for a usage limit' }, box, ' notify'), note);
  box.addEventListener('change', async () => {
    if (!box.checked) {
      setUi('notify', false);
      return;
    }
    // asked once: a denied permission is not asked again (the browser would not show the prompt anyway)
    const permission = Notification.permission === 'default' ? await Notification.requestPermission() : Notification.permission;
    box.checked = permission === 'granted';
    setUi('notify', box.checked);
    setText(note, permission === 'denied' ? 'notifications are blocked for this page in the browser settings' : '');
  });

  const icon = (document.querySelector('link[rel="icon"]') as HTMLLinkElement | null) ?? document.head.appendChild(h('link', { rel: 'icon' }));
  let shown = '';
  const paint = () => {
    if (!store.state) return;
    const count = problems();
    document.title = titleOf(store.state, count);
    const href = faviconOf(store.state.status, count);
    if (href !== shown) icon.href = shown = href;
  };
  store.on('state', paint);
  store.on('event', (event) => {
    if (['error', 'story:status', 'command:end', 'batch:end'].includes(event.type)) requestAnimationFrame(paint);
    const message = notificationOf(event as WireEvent);
    if (message && ui().notify && supported && Notification.permission === 'granted') new Notification(message.title, { body: message.body, tag: `sprint-runner-${event.id}` });
  });
}
