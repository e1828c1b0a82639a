/**
 * A one-line progress bar on stderr. On a terminal it redraws in place; in a log (CI, pipes) it
 * stays silent until `finish`, so logs get one line per task instead of hundreds.
 */
export class ProgressBar {
  private lastDraw = 0;

  constructor(
    private readonly label: string,
    private total: number,
    private readonly format: (done: number, total: number) => string = (d, t) => `${d}/${t}`,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  update(done: number, detail = '', total = this.total): void {
    this.total = total;
    if (!this.stream.isTTY) return;
    const now = Date.now();
    if (now - this.lastDraw < 50 && done < total) return;
    this.lastDraw = now;
    const width = 24;
    const filled = total > 0 ? Math.round((Math.min(done, total) / total) * width) : 0;
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const line = `${this.label} ${bar} ${this.format(done, total)} ${detail}`;
    const columns = this.stream.columns || 100;
    this.stream.write(`\r${line.slice(0, columns - 1).padEnd(columns - 1)}`);
  }

  finish(message: string): void {
    if (this.stream.isTTY) this.stream.write('\r\x1b[2K');
    this.stream.write(`${message}\n`);
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 ** 2).toFixed(1)} MiB`;
}
