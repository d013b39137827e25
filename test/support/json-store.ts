// A RunStore that keeps its data as JSON text in memory: restores go through serialisation, as from SQLite.
import type { ResumableBatch, RunStore, StoredRunnerEvent } from '../../machines/persistence.js';
import { MACHINE_VERSION } from '../../machines/persistence.js';
import type { MaxCycles } from '../../machines/batch.machine.js';

export class JsonStore implements RunStore {
  events: StoredRunnerEvent[] = [];
  batches: { id: number; maxCycles: MaxCycles; status: string; snapshot: string | null; version: string }[] = [];

  beginBatch(info: { maxCycles: MaxCycles }): number {
    const id = this.batches.length + 1;
    this.batches.push({ id, maxCycles: info.maxCycles, status: 'running', snapshot: null, version: MACHINE_VERSION });
    return id;
  }

  commit(batchId: number, events: { type: string; ts: number; payload: unknown }[], snapshot: unknown): StoredRunnerEvent[] {
    const batch = this.batches[batchId - 1]!;
    if (snapshot !== null) batch.snapshot = JSON.stringify(snapshot);
    const stored: StoredRunnerEvent[] = [];
    for (const raw of events) {
      const event = { ...JSON.parse(JSON.stringify(raw)), id: this.events.length + 1 } as StoredRunnerEvent;
      stored.push(event);
      this.events.push(event);
      if (event.type === 'state') batch.status = (event.payload as { status: string }).status;
    }
    return stored;
  }

  resumable(): ResumableBatch | null {
    const batch = this.batches[this.batches.length - 1];
    if (!batch || !batch.snapshot || !['stopped', 'interrupted', 'running', 'paused', 'stopping'].includes(batch.status)) return null;
    return {
      batchId: batch.id,
      status: batch.status === 'stopped' ? 'stopped' : 'interrupted',
      maxCycles: batch.maxCycles,
      machineVersion: batch.version,
      snapshot: JSON.parse(batch.snapshot),
    };
  }
}
