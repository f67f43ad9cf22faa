/** Progress for long jobs: a bar on a terminal, otherwise one line every few seconds. */
import cliProgress from 'cli-progress';

export interface Progress {
  update(rows: number, bytes: number, total: number): void;
  stop(): void;
}

export function createProgress(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  const t0 = performance.now();
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${label} {bar} {percentage}% | {rows} SKUs | {rate} SKUs/s | ETA {eta_formatted}`, stream, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(rows, bytes, total) {
        const rate = Math.round(rows / ((performance.now() - t0) / 1000 || 1));
        if (!started) {
          bar.start(Math.max(total, 1), 0, { rows: 0, rate: 0 });
          started = true;
        }
        bar.update(Math.min(bytes, total), { rows, rate });
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let last = 0;
  return {
    update(rows, bytes, total) {
      const now = performance.now();
      if (now - last < 2000) return;
      last = now;
      const s = (now - t0) / 1000;
      const frac = total > 0 ? bytes / total : 0;
      const eta = frac > 0 ? (s / frac - s).toFixed(0) : '?';
      stream.write(`${label}: ${rows} SKUs, ${Math.round(rows / s)} SKUs/s, ${(frac * 100).toFixed(0)}% read, ETA ${eta}s\n`);
    },
    stop() {},
  };
}
