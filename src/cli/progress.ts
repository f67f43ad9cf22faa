/**
 * Progress for long jobs: a bar on a terminal, otherwise one line every few seconds. `done` of
 * `total` is the share of the input whose results are written (the job's progress events), so
 * the bar reaches 100 % with the last chunk, not when the reader reaches the end of the file.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  update(rows: number, done: number, total: number): void;
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
    let barTotal = 0;
    return {
      update(rows, done, total) {
        const rate = Math.round(rows / ((performance.now() - t0) / 1000 || 1));
        const t = Math.max(total, 1);
        if (!started) {
          bar.start(t, 0, { rows: 0, rate: 0 });
          started = true;
        } else if (t !== barTotal) bar.setTotal(t);
        barTotal = t;
        bar.update(Math.min(done, t), { rows, rate });
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let last = 0;
  return {
    update(rows, done, total) {
      const now = performance.now();
      if (now - last < 2000) return;
      last = now;
      const s = (now - t0) / 1000;
      const frac = total > 0 ? Math.min(done / total, 1) : 0;
      const eta = frac > 0 ? (s / frac - s).toFixed(0) : '?';
      stream.write(`${label}: ${rows} SKUs, ${Math.round(rows / s)} SKUs/s, ${(frac * 100).toFixed(0)}% done, ETA ${eta}s\n`);
    },
    stop() {},
  };
}
