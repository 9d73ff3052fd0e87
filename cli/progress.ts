/**
 * One status line that redraws in place on a terminal and prints a line at most
 * every few seconds elsewhere (CI logs), so progress is visible in both.
 */
export class ProgressLine {
  private lastPlainWrite = 0;
  private lastText = '';
  private lastWritten = '';
  private readonly tty: boolean;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly plainIntervalMs = 3_000,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  update(text: string, percent?: number): void {
    const line = percent === undefined ? text : `${bar(percent)} ${text}`;
    if (this.tty) {
      this.stream.write(`\r\x1b[2K${line}`);
    } else if (line !== this.lastText && Date.now() - this.lastPlainWrite >= this.plainIntervalMs) {
      this.stream.write(`${line}\n`);
      this.lastPlainWrite = Date.now();
      this.lastWritten = line;
    }
    this.lastText = line;
  }

  done(): void {
    if (this.tty && this.lastText) this.stream.write('\n');
    else if (!this.tty && this.lastText && this.lastText !== this.lastWritten) this.stream.write(`${this.lastText}\n`);
    this.lastText = '';
  }
}

export function bar(percent: number, width = 30): string {
  const clamped = Math.max(0, Math.min(100, percent));
  const filled = Math.round((clamped / 100) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(clamped)).padStart(3)}%`;
}
