// An ApiState for tests that need one: idle, no batch, nothing running, with what the test sets on top.
import type { ApiState } from '../../machines/wire.js';

export function apiState(patch: Partial<ApiState> = {}): ApiState {
  return { status: 'idle', batch: null, cycle: null, currentStory: null, currentCommand: null, currentTask: null, background: [], usageLimit: null, lastEventId: 0, ...patch };
}
