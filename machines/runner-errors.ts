// The errors the runner's controls throw, as values with codes: the server maps the code, never the message.

/**
 * - `already-active`: a batch is running, paused or stopping in this process
 * - `nothing-to-resume`: Resume with no paused, stopped or interrupted batch
 * - `bad-cycles`: a cycle count that is not a whole number of at least 1 or "all"
 * - `version-mismatch`: the stopped batch was recorded by other machines and cannot resume exactly
 * - `resumable-batch`: Start while a stopped or interrupted batch could still be resumed (resume it, or start with discard)
 * - `bad-budget`: a budget that is not a positive number of USD (or null for none)
 * - `budget-reached`: Resume of a batch paused at its budget before the budget was raised
 * - `no-batch`: a budget set when there is no batch to set it for
 * - `halted`: a store write failed; this runner writes nothing more (serve stops; a restart resumes)
 */
export type RunnerErrorCode = 'already-active' | 'nothing-to-resume' | 'bad-cycles' | 'version-mismatch' | 'resumable-batch' | 'halted' | 'bad-budget' | 'budget-reached' | 'no-batch';

export class RunnerError extends Error {
  constructor(
    readonly code: RunnerErrorCode,
    message: string,
    /** the batch the error is about, when there is one */
    readonly batchId: number | null = null,
  ) {
    super(message);
    this.name = 'RunnerError';
  }
}
