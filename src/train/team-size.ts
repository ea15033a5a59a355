// How many threads share the next batch. Weights do not depend on it (fixed shards, summed in
// order), so training is free to change it while it runs: on a busy machine a thread whose core
// is taken by another process holds up every batch, and fewer threads are then faster. Measure,
// and keep what is fastest: the current size runs, and every so often a neighbouring size is tried
// for a few batches; it is kept when its time per image (total time / total images: a thread the
// OS stops shows as a few slow batches, which a median would hide) is clearly lower than the
// latest batches' of the current size. One fewer thread is tried only while the team shares the
// work badly (a batch takes much longer than the calling thread alone would need, divided among
// the threads): on an idle machine, never. Called once per batch, it allocates nothing.
// Platform-neutral and pure (times are handed in), so its decisions are tested with made-up times.

/** Batches a tried size runs for before it is judged. */
export const PROBE_BATCHES = 24;
/** Batches of the current size whose times it is judged against (the latest ones). */
const WINDOW = 48;
/** Batches between tries, at first and after a switch; doubled after each try that loses, up to MAX_INTERVAL. */
export const FIRST_INTERVAL = 50;
export const MAX_INTERVAL = 800;
/**
 * Fewer threads must be this much faster (time per image) to be kept: noise is not a reason to
 * leave the default. More threads (back towards all of them) need only be as fast.
 */
export const MARGIN = 0.8;
/**
 * Below this sharing efficiency (one thread's time alone / (threads x the batches' time), over the
 * window) fewer threads may be faster, and are tried. Measured per batch with 2 threads on 2 cores:
 * 0.88-0.93 idle, 0.45-0.50 with one other busy process.
 */
export const EFFICIENT = 0.75;

/**
 * The latest `capacity` batches' pairs (seconds and images; or, for efficiency, one thread's time
 * alone and threads x seconds) in a ring, and the ratio of their sums.
 */
class Window {
  private readonly pairs: Float64Array;
  private next = 0;
  length = 0;

  constructor(private readonly capacity: number) {
    this.pairs = new Float64Array(2 * capacity);
  }

  push(a: number, b: number): void {
    this.pairs[2 * this.next] = a;
    this.pairs[2 * this.next + 1] = b;
    this.next = (this.next + 1) % this.capacity;
    this.length = Math.min(this.length + 1, this.capacity);
  }

  /** Sum of the first members over sum of the second. */
  ratio(): number {
    let a = 0, b = 0;
    for (let i = 0; i < this.length; i++) {
      a += this.pairs[2 * i]!;
      b += this.pairs[2 * i + 1]!;
    }
    return a / b;
  }

  /** Holds `other`'s pairs instead of its own. */
  replaceWith(other: Window): void {
    this.clear();
    for (let i = 0; i < other.length; i++) this.push(other.pairs[2 * i]!, other.pairs[2 * i + 1]!);
  }

  clear(): void {
    this.next = this.length = 0;
  }
}

export class TeamSize {
  /** The size batches run with, except during a try. */
  current: number;
  /** Batches run with each size: runs[k - 1] with k threads. */
  readonly runs: number[];
  private interval = FIRST_INTERVAL;
  private sinceTry = 0;
  private trying: number | undefined;
  private readonly tried = new Window(PROBE_BATCHES);
  private readonly recent = new Window(WINDOW);
  private readonly efficiency = new Window(WINDOW);
  private tryUp = false;

  constructor(readonly max: number, readonly adaptive = true) {
    this.current = max;
    this.runs = new Array<number>(max).fill(0);
  }

  /** Threads for the next batch. */
  next(): number {
    return this.trying ?? this.current;
  }

  /**
   * Records the batch just run with `size` threads: `seconds` for `images` images; `alone`: what
   * one thread would have taken, at the calling thread's pace on its shards (when it had one).
   */
  record(size: number, seconds: number, images: number, alone?: number): void {
    this.runs[size - 1]!++;
    if (!this.adaptive || this.max === 1) return;
    if (this.trying !== undefined) {
      this.tried.push(seconds, images);
      if (this.tried.length >= PROBE_BATCHES) this.judge();
      return;
    }
    this.recent.push(seconds, images);
    if (alone !== undefined && size > 1) this.efficiency.push(alone, size * seconds);
    if (++this.sinceTry >= this.interval && this.recent.length >= PROBE_BATCHES) this.startTry();
  }

  /** A neighbouring size: one more thread, or one fewer while the team shares badly; alternately when both are worth a try. */
  private startTry(): void {
    const up = this.current < this.max;
    const down = this.current > 1 && this.efficiency.length >= PROBE_BATCHES && this.efficiency.ratio() < EFFICIENT;
    if (!up && !down) {
      this.sinceTry = 0; // all threads, sharing well: nothing to try
      return;
    }
    this.tryUp = up && (!down || !this.tryUp);
    this.trying = this.current + (this.tryUp ? 1 : -1);
    this.tried.clear();
  }

  private judge(): void {
    const better = this.tried.ratio() < (this.tryUp ? 1 : MARGIN) * this.recent.ratio();
    if (better) {
      this.current = this.trying!;
      this.recent.replaceWith(this.tried);
      this.efficiency.clear();
      this.interval = FIRST_INTERVAL;
    } else {
      this.interval = Math.min(MAX_INTERVAL, this.interval * 2);
    }
    this.trying = undefined;
    this.sinceTry = 0;
  }
}
