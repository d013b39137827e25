// One WebSocket client's event feed: replay from storage after the client's last id, then live events, with no gap and no duplicate.
import type { SprintService, StoredEvent } from './service.js';

export interface StreamOptions {
  /** events read from storage per replay query */
  pageSize: number;
  /** a live client whose unsent data grows beyond this is closed with 1013 (it reconnects and replays) */
  maxBufferedBytes: number;
  /** how long a client closed for being slow has to read up to the close frame before its socket is cut */
  slowCloseGraceMs: number;
  /** live events held while replaying; past this they are dropped and read back from storage instead */
  maxPendingEvents: number;
  /** how long a client without `?after` has to send `{"type":"hello","after":n}` before it gets the state hello */
  helloWaitMs: number;
}

export const DEFAULT_STREAM_OPTIONS: StreamOptions = {
  pageSize: 500,
  // with the client cap (DEFAULT_MAX_CLIENTS) this bounds what unread clients can make us hold
  maxBufferedBytes: 1024 * 1024,
  slowCloseGraceMs: 5_000,
  maxPendingEvents: 10_000,
  helloWaitMs: 150,
};

/** The part of a `ws` WebSocket the stream uses (a fake in unit tests). */
export interface StreamSocket {
  readonly bufferedAmount: number;
  send(data: string, callback?: (error?: Error) => void): void;
  close(code?: number, reason?: string): void;
  /** cuts the connection without a closing handshake */
  terminate?(): void;
}

/** Close codes the client can act on. */
export const CLOSE_TRY_AGAIN_LATER = 1013;
export const CLOSE_POLICY = 1008;
export const CLOSE_INTERNAL_ERROR = 1011;

/** The WebSocket's `after` parameter: absent is null, anything but a whole number is invalid. */
export function parseAfter(raw: string | undefined): number | null | 'invalid' {
  if (raw === undefined || raw === '') return null;
  if (!/^\d+$/.test(raw)) return 'invalid';
  const value = Number(raw);
  return Number.isSafeInteger(value) ? value : 'invalid';
}

/** One event on the wire: `{id, type, ts, payload}`, with the store's payload text spliced in when there is one. */
function wireJson(event: StoredEvent): string {
  if (event.payloadJson === undefined) return JSON.stringify({ id: event.id, type: event.type, ts: event.ts, payload: event.payload });
  return `{"id":${event.id},"type":${JSON.stringify(event.type)},"ts":${event.ts},"payload":${event.payloadJson}}`;
}

type Phase = 'waiting' | 'replaying' | 'live' | 'closed';

/**
 * Subscribes before reading anything, so an event stored while we read is either in what we read or in the
 * pending list; the cursor (the last id sent) then drops whatever arrives twice. Requires that the service
 * notifies subscribers of an event no earlier than eventsAfter() can return it: when the pending list
 * overflows, the dropped events are read back from storage.
 */
export class EventStream {
  private phase: Phase = 'waiting';
  /** the id of the last event sent; nothing at or below it is sent again */
  private cursor = 0;
  private pending: StoredEvent[] = [];
  /** set when pending events were dropped: replay must read storage once more before going live */
  private reread = false;
  private unsubscribe: (() => void) | null = null;
  private helloTimer: NodeJS.Timeout | null = null;
  private readonly options: StreamOptions;

  constructor(
    private readonly service: SprintService,
    private readonly socket: StreamSocket,
    options: Partial<StreamOptions> = {},
    private readonly logError: (error: unknown) => void = console.error,
  ) {
    this.options = { ...DEFAULT_STREAM_OPTIONS, ...options };
  }

  /** Starts the feed: a replay after `after`, or, without it, a short wait for the client's hello message. */
  open(after: number | null): void {
    this.unsubscribe = this.service.subscribe((event) => this.onLive(event));
    if (after !== null) this.begin(after);
    else this.helloTimer = setTimeout(() => this.begin(null), this.options.helloWaitMs);
  }

  /** A message from the client: only a first `{"type":"hello","after":n}` means anything. */
  receive(data: unknown): void {
    if (this.phase !== 'waiting') return;
    let message: unknown;
    try {
      message = typeof data === 'string' ? JSON.parse(data) : null;
    } catch {
      message = null;
    }
    const hello = typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'hello' ? (message as { after?: unknown }) : null;
    if (hello === null || hello.after === undefined || hello.after === null) {
      this.begin(null);
      return;
    }
    if (typeof hello.after === 'number' && Number.isSafeInteger(hello.after) && hello.after >= 0) this.begin(hello.after);
    else this.end(CLOSE_POLICY, 'hello.after must be a whole number');
  }

  /** The socket closed: stop listening and forget everything held. */
  dispose(): void {
    this.phase = 'closed';
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.helloTimer) clearTimeout(this.helloTimer);
    this.helloTimer = null;
    this.pending = [];
    this.outbox = [];
  }

  private begin(after: number | null): void {
    if (this.phase !== 'waiting') return;
    if (this.helloTimer) clearTimeout(this.helloTimer);
    this.helloTimer = null;
    this.phase = 'replaying';
    this.replay(after).catch((error: unknown) => {
      this.logError(error);
      this.end(CLOSE_INTERNAL_ERROR, 'replay failed');
    });
  }

  private async replay(after: number | null): Promise<void> {
    if (after === null) {
      const state = await this.service.state();
      if (this.closed()) return;
      // the hello carries the id the state is current to; what follows is every event after it
      void this.send([{ id: state.lastEventId, type: 'hello', ts: Date.now(), payload: state }]);
      this.cursor = state.lastEventId;
    } else {
      this.cursor = after;
    }
    for (;;) {
      this.reread = false;
      const page = await this.service.eventsAfter(this.cursor, this.options.pageSize);
      if (this.closed()) return;
      const fresh = page.filter((event) => event.id > this.cursor);
      if (fresh.length > 0) {
        this.cursor = fresh[fresh.length - 1]!.id;
        // flow control: a slow client slows the replay instead of filling memory
        await this.send(fresh);
      }
      if (this.closed()) return;
      if (page.length < this.options.pageSize && !this.reread) break;
    }
    // nothing awaits between the last read and here, so no live event can slip between replay and live
    this.phase = 'live';
    const pending = this.pending;
    this.pending = [];
    for (const event of pending) this.deliver(event);
  }

  private onLive(event: StoredEvent): void {
    // a listener must never throw into the service that notifies it
    try {
      if (this.phase === 'live') this.deliver(event);
      else if (this.phase !== 'closed') {
        this.pending.push(event);
        if (this.pending.length > this.options.maxPendingEvents) {
          this.pending = [];
          this.reread = true;
        }
      }
    } catch (error) {
      this.logError(error);
      this.end(CLOSE_INTERNAL_ERROR, 'send failed');
    }
  }

  private deliver(event: StoredEvent): void {
    if (this.phase !== 'live' || event.id <= this.cursor) return;
    if (this.outbox.length === 0) queueMicrotask(() => this.flushOutbox());
    this.outbox.push(event);
    this.cursor = event.id;
    if (this.outbox.length >= this.options.pageSize) this.flushOutbox();
  }

  /**
   * Live events wait here until the end of the synchronous burst that published them (the runner publishes a
   * whole commit, up to a stdout chunk's worth of lines, in one loop): one message and one write for the burst,
   * not one per event.
   */
  private outbox: StoredEvent[] = [];

  private flushOutbox(): void {
    if (this.outbox.length === 0 || this.phase !== 'live') return;
    const events = this.outbox;
    this.outbox = [];
    if (this.socket.bufferedAmount > this.options.maxBufferedBytes) {
      // a client that cannot keep up would make us buffer without bound; it reconnects with ?after and replays
      this.end(CLOSE_TRY_AGAIN_LATER, `too slow: reconnect with ?after=${events[0]!.id - 1}`);
      // the close frame waits behind everything buffered: a client that reads again gets 1013; one that
      // never reads would keep the buffer for ws's 30 s closing timeout, so it is cut sooner
      setTimeout(() => this.socket.terminate?.(), this.options.slowCloseGraceMs).unref();
      return;
    }
    try {
      void this.send(events);
    } catch (error) {
      this.logError(error);
      this.end(CLOSE_INTERNAL_ERROR, 'send failed');
    }
  }

  /**
   * Every message is a JSON array of events in id order. Resolves once it is handed to the OS (or the socket
   * failed): the replay's flow control.
   */
  private send(events: StoredEvent[]): Promise<void> {
    const text = `[${events.map(wireJson).join(',')}]`;
    let flushed!: () => void;
    const promise = new Promise<void>((resolve) => (flushed = resolve));
    // outside the Promise executor, so a throwing socket throws here and not into an unhandled rejection
    this.socket.send(text, () => flushed());
    return promise;
  }

  private closed(): boolean {
    return this.phase === 'closed';
  }

  private end(code: number, reason: string): void {
    if (this.closed()) return;
    this.dispose();
    this.socket.close(code, reason);
  }
}
