// Delivers one claude run's messages to its listener: in order, never after `exit`, never throwing, warnings capped.
import type { ClaudeProcessMessage } from './types.js';

/** Warnings past this many are still counted in the outcome but not sent, so a garbage flood cannot flood the log. */
const MAX_WARNINGS_SENT = 100;

export class RunMessages {
  /** every warning, sent or not: the outcome counts them all */
  warnings = 0;
  private warningsSent = 0;
  /** set once `exit` went out: nothing is sent after it */
  exitSent = false;

  constructor(private readonly onMessage: (m: ClaudeProcessMessage) => void) {}

  warn(message: string): void {
    this.warnings++;
    if (this.warningsSent < MAX_WARNINGS_SENT) {
      this.warningsSent++;
      this.send({ type: 'warning', message });
    } else if (this.warningsSent === MAX_WARNINGS_SENT) {
      this.warningsSent++;
      this.send({ type: 'warning', message: `more than ${MAX_WARNINGS_SENT} warnings; further ones are only counted` });
    }
  }

  send(message: ClaudeProcessMessage): void {
    if (this.exitSent) return;
    try {
      this.onMessage(message);
    } catch {
      // a failing listener must not break the run or leave the child unsupervised
    }
  }
}
