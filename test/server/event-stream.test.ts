// EventStream against a fake socket: backpressure, failures that must not reach the service, the hello handshake, disposal.
import { describe, expect, it } from 'vitest';
import { EventStream, type StreamSocket } from '../../server/event-stream.js';
import type { StoredEvent } from '../../server/service.js';
import { waitFor } from '../support/wait.js';
import { FakeService } from './fake-service.js';

class FakeSocket implements StreamSocket {
  bufferedAmount = 0;
  /** every message as sent: an array of events */
  readonly messages: StoredEvent[][] = [];
  /** the events of every message, in order */
  readonly sent: StoredEvent[] = [];
  closed: { code: number | undefined; reason: string | undefined } | null = null;
  throwOnSend = false;

  send(data: string, callback?: (error?: Error) => void): void {
    if (this.throwOnSend) throw new Error('socket exploded');
    const events = JSON.parse(data) as StoredEvent[];
    this.messages.push(events);
    this.sent.push(...events);
    queueMicrotask(() => callback?.());
  }

  close(code?: number, reason?: string): void {
    this.closed = { code, reason };
  }
}

function setup(options: ConstructorParameters<typeof EventStream>[2] = {}) {
  const service = new FakeService();
  const socket = new FakeSocket();
  const errors: unknown[] = [];
  const stream = new EventStream(service, socket, { helloWaitMs: 10, ...options }, (error) => errors.push(error));
  return { service, socket, stream, errors };
}

describe('EventStream', () => {
  it('closes a live client with 1013 when its unsent data passes the limit, and lets go of the service', async () => {
    const { service, socket, stream } = setup({ maxBufferedBytes: 1000 });
    stream.open(0);
    await waitFor(() => service.calls.some((call) => call.method === 'eventsAfter'), 'the replay');
    service.push();
    await waitFor(() => socket.sent.length === 1, 'a live event');
    socket.bufferedAmount = 5000;
    service.push();
    await waitFor(() => socket.closed, 'the close');
    expect(socket.closed).toEqual({ code: 1013, reason: 'too slow: reconnect with ?after=1' });
    expect(service.subscriberCount).toBe(0);
    expect(socket.sent).toHaveLength(1);
  });

  it('a socket that throws never throws into the service', async () => {
    const { service, socket, stream, errors } = setup();
    stream.open(0);
    await waitFor(() => service.calls.some((call) => call.method === 'eventsAfter'), 'the replay');
    await new Promise((resolve) => setTimeout(resolve, 5));
    socket.throwOnSend = true;
    expect(() => service.push()).not.toThrow();
    await waitFor(() => socket.closed, 'the close');
    expect(socket.closed?.code).toBe(1011);
    expect(errors).toHaveLength(1);
    expect(service.subscriberCount).toBe(0);
  });

  it('the events of one synchronous burst go out as one message, at most a page per message, in order', async () => {
    const { service, socket, stream } = setup({ pageSize: 4 });
    stream.open(0);
    await waitFor(() => service.calls.some((call) => call.method === 'eventsAfter'), 'the replay');
    await new Promise((resolve) => setTimeout(resolve, 5));
    for (let i = 0; i < 6; i++) service.push();
    await waitFor(() => socket.sent.length === 6, 'the burst');
    expect(socket.messages.map((message) => message.map((event) => event.id))).toEqual([
      [1, 2, 3, 4],
      [5, 6],
    ]);
    service.push();
    await waitFor(() => socket.sent.length === 7, 'a later event');
    expect(socket.messages.at(-1)!.map((event) => event.id)).toEqual([7]);
  });

  it('a replay sends each page read from storage as one message', async () => {
    const { service, socket, stream } = setup({ pageSize: 4 });
    for (let i = 0; i < 10; i++) service.push();
    stream.open(0);
    await waitFor(() => socket.sent.length === 10, 'the replay');
    expect(socket.messages.map((message) => message.length)).toEqual([4, 4, 2]);
  });

  it('a failing replay closes with 1011 and is logged', async () => {
    const { service, socket, stream, errors } = setup();
    service.fail('eventsAfter', new Error('database is locked'));
    stream.open(0);
    await waitFor(() => socket.closed, 'the close');
    expect(socket.closed?.code).toBe(1011);
    expect(errors).toEqual([new Error('database is locked')]);
  });

  it('without after, a first message that is not a hello with after gets the state hello at once', async () => {
    const { service, socket, stream } = setup({ helloWaitMs: 60_000 });
    service.push();
    stream.open(null);
    stream.receive('not json');
    await waitFor(() => socket.sent.length === 1, 'the hello');
    expect(socket.sent[0]).toMatchObject({ id: 1, type: 'hello', payload: { lastEventId: 1 } });
    // later messages mean nothing
    stream.receive(JSON.stringify({ type: 'hello', after: 0 }));
    service.push();
    await waitFor(() => socket.sent.length === 2, 'a live event');
    expect(socket.sent.map((event) => event.id)).toEqual([1, 2]);
  });

  it('events stored between subscribing and the state are sent after the hello, not lost', async () => {
    const { service, socket, stream } = setup();
    service.push();
    stream.open(null);
    // the hello waits for the client; meanwhile more events are stored
    service.push();
    service.push();
    await waitFor(() => socket.sent.length === 1, 'the hello');
    service.push();
    await waitFor(() => socket.sent.length === 2, 'a live event');
    expect(socket.sent.map((event) => [event.type, event.id])).toEqual([
      ['hello', 3],
      ['command:progress', 4],
    ]);
  });

  it('sends nothing after dispose', async () => {
    const { service, socket, stream } = setup();
    stream.open(null);
    stream.dispose();
    service.push();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(socket.sent).toEqual([]);
    expect(service.subscriberCount).toBe(0);
  });
});
