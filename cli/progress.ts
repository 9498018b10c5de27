/**
 * Progress of a replay that reads from S3, on stderr: objects and bytes done out of those listed so far (the listing
 * runs ahead of the reading, so the totals grow until it ends: shown with a "+"). On a terminal one line redrawn in
 * place (a bar) at most every `redrawMs`; otherwise a plain line every `intervalMs` and one at the end, so a log
 * file or CI output gets a few lines, not thousands. Messages written meanwhile (skipped input, ...) go through
 * `write`, which clears the bar first and redraws it after, so the two never mix on one line.
 */

export interface ProgressOptions {
  /** stderr is a terminal: redraw one line (\r) instead of printing lines. */
  tty: boolean;
  /** Plain lines: at most one per this many ms (the last line is always printed). */
  intervalMs?: number;
  /** Terminal: redraw at most this often. */
  redrawMs?: number;
  /** For tests. */
  now?: () => number;
  /** Terminal width for the bar. */
  columns?: number;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

export class Progress {
  listed = 0;
  listedBytes = 0;
  listing = true;
  done = 0;
  doneBytes = 0;
  private drawn = false;
  private last = -Infinity;
  private readonly now: () => number;

  constructor(
    private readonly out: (s: string) => void,
    private readonly opts: ProgressOptions,
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** One line of text (no newline): counts, and a bar when asked. */
  text(bar: boolean): string {
    const more = this.listing ? "+" : "";
    const counts = `${this.done}/${this.listed}${more} objects, ${formatBytes(this.doneBytes)}/${formatBytes(this.listedBytes)}${more}`;
    const state = this.listing ? " (listing)" : "";
    if (!bar) return `replay: s3: ${counts} read${state}`;
    const width = 24;
    const frac = this.listedBytes > 0 ? this.doneBytes / this.listedBytes : this.listed > 0 ? this.done / this.listed : 0;
    const filled = Math.max(0, Math.min(width, Math.floor(frac * width)));
    const pct = this.listing ? "  ?%" : `${String(Math.floor(frac * 100)).padStart(3)}%`;
    const line = `replay: s3 [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${pct} ${counts}${state}`;
    return line.slice(0, Math.max(20, (this.opts.columns ?? 100) - 1));
  }

  listedObject(size: number): void {
    this.listed++;
    this.listedBytes += size;
    this.tick();
  }

  listingDone(): void {
    this.listing = false;
    this.tick();
  }

  objectDone(size: number): void {
    this.done++;
    this.doneBytes += size;
    this.tick();
  }

  private tick(): void {
    const t = this.now();
    if (this.opts.tty) {
      if (t - this.last < (this.opts.redrawMs ?? 100)) return;
      this.last = t;
      this.out(`\r\x1b[K${this.text(true)}`);
      this.drawn = true;
    } else {
      if (t - this.last < (this.opts.intervalMs ?? 10_000)) return;
      this.last = t;
      this.out(`${this.text(false)}\n`);
    }
  }

  /** A message to stderr while the bar may be drawn: clear it, write, draw it again. */
  write(s: string): void {
    if (this.opts.tty && this.drawn) {
      this.out(`\r\x1b[K${s}`);
      this.out(this.text(true));
    } else this.out(s);
  }

  /** The last state: the bar completed (terminal) or one final line. */
  end(extra = ""): void {
    if (this.opts.tty) {
      this.out(`\r\x1b[K${this.text(true)}${extra}\n`);
      this.drawn = false;
    } else this.out(`${this.text(false)}${extra}\n`);
  }
}
