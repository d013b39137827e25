// V8 heap settings for the long-running orchestrator process: its entry points call capYoungGeneration() once.
import v8 from 'node:v8';

/**
 * The orchestrator runs for hours, mostly waiting, and sometimes takes a flood of stdout (an agent looping on
 * the log script). Under such a flood V8 doubles its young generation to 32 MB and keeps it for the life of the
 * process. Called once the modules are loaded (the young generation is 16 MB by then), this keeps it at that
 * size. Measured by `npm run bench`: RSS after 100,000 events 140-146 MB with it, 150-166 MB without; capped
 * from before the modules load (2 MB) it was 176 MB, as more survives into the old generation. Only the growth
 * factor can still be changed once the heap exists; the semi-space sizes cannot.
 */
export function capYoungGeneration(): void {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
}
