// The WebSocket to /ws: reconnects with backoff, asks for every event after the last it has, and feeds the store.
import type { Store } from './store.js';
import type { StoredEvent } from './types.js';

const MIN_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 10_000;

export class Connection {
  private socket: WebSocket | null = null;
  private backoff = MIN_BACKOFF_MS;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closedByUs = false;

  constructor(private readonly store: Store) {}

  start(): void {
    this.closedByUs = false;
    this.open();
  }

  close(): void {
    this.closedByUs = true;
    if (this.timer) clearTimeout(this.timer);
    this.socket?.close();
    this.store.setConnection('closed');
  }

  private open(): void {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    // the store's last id: the server replays everything after it from SQLite, so a reconnect misses nothing
    const socket = new WebSocket(`${scheme}://${location.host}/ws?after=${this.store.lastEventId}`);
    this.socket = socket;
    socket.addEventListener('open', () => {
      this.backoff = MIN_BACKOFF_MS;
      this.store.setConnection('open');
      // anything the events do not carry (statuses derived server-side) is fetched once per connection
      void this.store.refreshState().catch(() => undefined);
      void this.store.refreshSprint();
    });
    socket.addEventListener('message', (message: MessageEvent<string>) => {
      // every message is an array of events, in id order: a burst of lines arrives as one message
      let events: StoredEvent[];
      try {
        events = JSON.parse(message.data) as StoredEvent[];
      } catch {
        return;
      }
      if (!Array.isArray(events)) return;
      for (const event of events) if (event.type !== 'hello') this.store.apply(event);
    });
    socket.addEventListener('close', () => {
      if (this.socket !== socket || this.closedByUs) return;
      this.store.setConnection('reconnecting');
      this.timer = setTimeout(() => this.open(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
    });
  }
}
