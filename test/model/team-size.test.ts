// Adaptive multi-core training: how many threads share a batch is chosen while training runs
// (train/team-size.ts), from made-up times here; and whatever it chooses, batch by batch, the
// gradients are those of one thread, bit for bit.
import { describe, expect, it } from "vitest";
import { subset } from "../../src/data/datasets.js";
import { LeNet5, parameterLayout, SHARD_SIZE, shardGradientLayout } from "../../src/model/lenet.js";
import { architecture } from "../../src/model/networks.js";
import { DataParallel } from "../../src/train/data-parallel.js";
import { EFFICIENT, FIRST_INTERVAL, MAX_INTERVAL, PROBE_BATCHES, TeamSize } from "../../src/train/team-size.js";
import { mnist } from "../helpers.js";

/** Runs `batches` batches of 32 images; `seconds(size)` is what a batch takes with `size` threads, `alone` what one thread alone would. */
function simulate(team: TeamSize, batches: number, seconds: (size: number, batch: number) => number, alone: (batch: number) => number): number[] {
  const sizes: number[] = [];
  for (let b = 0; b < batches; b++) {
    const size = team.next();
    sizes.push(size);
    team.record(size, seconds(size, b), 32, size > 1 ? alone(b) : undefined);
  }
  return sizes;
}

describe("how many threads share a batch", () => {
  it("an idle machine: all threads, always; nothing is tried while they share the work well", () => {
    const team = new TeamSize(2);
    // Two threads take 0.55 of one thread's time: efficiency 0.91, as measured idle.
    const sizes = simulate(team, 5000, (size) => (size === 2 ? 0.55e-3 : 1e-3), () => 1e-3);
    expect(sizes.every((s) => s === 2)).toBe(true);
    expect(team.runs).toEqual([0, 5000]);
  });

  it("a busy core: tries one thread, keeps it while it is faster, tries two again less and less often", () => {
    const team = new TeamSize(2);
    // Two threads take 1.4x one thread's time (efficiency 0.45 < EFFICIENT): one thread is 29% faster.
    expect(1.26 / (2 * 1.4)).toBeLessThan(EFFICIENT);
    const sizes = simulate(team, 3000, (size) => (size === 2 ? 1.4e-3 : 1e-3), () => 1.26e-3);
    const firstTry = sizes.indexOf(1);
    expect(firstTry).toBe(FIRST_INTERVAL);
    expect(sizes.slice(firstTry, firstTry + PROBE_BATCHES).every((s) => s === 1)).toBe(true);
    expect(sizes.slice(firstTry + PROBE_BATCHES).filter((s) => s === 1).length / (3000 - firstTry - PROBE_BATCHES)).toBeGreaterThan(0.9);
    // Back at 1, two threads are tried after FIRST_INTERVAL, then 2x, 4x ... that, at most MAX_INTERVAL apart.
    const tries = sizes.map((s, i) => (s === 2 && sizes[i - 1] === 1 ? i : -1)).filter((i) => i > firstTry);
    const gaps = tries.slice(1).map((t, i) => t - tries[i]! - PROBE_BATCHES);
    expect(gaps.every((g, i) => i === 0 || g >= gaps[i - 1]!)).toBe(true);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(MAX_INTERVAL);
  });

  it("one thread faster, but under the margin: keeps all threads, trying one less and less often", () => {
    const team = new TeamSize(2);
    const sizes = simulate(team, 2000, (size) => (size === 2 ? 1.2e-3 : 1e-3), () => 1.1e-3);
    const tries = sizes.map((s, i) => (s === 1 && sizes[i - 1] === 2 ? i : -1)).filter((i) => i >= 0);
    expect(tries).toEqual([50, 174, 398, 822, 1646]); // FIRST_INTERVAL, then 2x, 4x, 8x, 16x it, each after a try of PROBE_BATCHES
    expect(sizes.filter((s) => s === 2).length).toBe(2000 - tries.length * PROBE_BATCHES);
  });

  it("the machine frees up: all threads again at the next try", () => {
    const team = new TeamSize(2);
    const busyUntil = 1000;
    const sizes = simulate(team, 4000, (size, b) => (b < busyUntil ? (size === 2 ? 1.4e-3 : 1e-3) : size === 2 ? 0.55e-3 : 1e-3), (b) => (b < busyUntil ? 1.26e-3 : 1e-3));
    expect(sizes[busyUntil - 1]).toBe(1);
    expect(sizes.indexOf(2, busyUntil) - busyUntil).toBeLessThanOrEqual(MAX_INTERVAL);
    expect(sizes.slice(busyUntil + MAX_INTERVAL + PROBE_BATCHES).every((s) => s === 2)).toBe(true);
  });

  it("adaptive false, or one thread: never changes", () => {
    expect(simulate(new TeamSize(4, false), 3000, (size) => size * 1e-3, () => 1e-4).every((s) => s === 4)).toBe(true);
    expect(simulate(new TeamSize(1), 100, () => 1e-3, () => 1e-3).every((s) => s === 1)).toBe(true);
  });
});

describe("data-parallel gradients", () => {
  it.each(["lenet5", "lenet5-1998", "lenet5-1998-softmax"] as const)("hand over less than a sixth of the gradient block: every tensor but the dense layers', then what those read (%s)", (name) => {
    const arch = architecture(name), { at, total } = parameterLayout(arch.parameters), layout = shardGradientLayout(arch);
    const dense = new Set(arch.dense.flatMap((d) => [d.weight, d.bias]));
    const handed = layout.ranges.flatMap((r) => arch.parameters.filter((p) => at[p.name]! >= r.at && at[p.name]! < r.at + r.length).map((p) => p.name));
    expect(handed).toEqual(arch.parameters.filter((p) => !dense.has(p.name)).map((p) => p.name));
    expect(layout.dense.map((d) => d.inp - d.dout)).toEqual(arch.dense.map((d) => SHARD_SIZE * d.N)); // dout, then inp
    expect(layout.length * 6).toBeLessThan(total);
  });

  // Each network hands its workers' shards over in its own form (its dense layers' activations).
  it.each(["lenet5", "lenet5-1998", "lenet5-1998-softmax"] as const)("are one thread's, bit for bit, whatever number of threads each batch runs with (%s)", async (arch) => {
    const data = subset(mnist().train, 0, 400);
    const order = Uint32Array.from({ length: data.count }, (_, i) => (i * 7) % data.count);
    const alone = await LeNet5.create({ arch, seed: 9, batchSize: 40 });
    const model = await LeNet5.create({ arch, seed: 9, batchSize: 40 });
    const team = await DataParallel.start(model, 3, data, 40, undefined, 9, false);
    try {
      team.setOrder(order);
      // 40 images = 5 shards; then a last batch of 20 (3 shards, the last one short).
      const batches: [number, number, number][] = [[0, 40, 3], [40, 40, 1], [80, 40, 2], [120, 40, 3], [160, 20, 2]];
      for (const [start, B, size] of batches) {
        team.size.current = size;
        team.gradients(start, B);
        alone.setBatch({ images: data.images, labels: data.labels, count: B, start, order });
        alone.zeroGradients();
        const loss = alone.accumulateGradients(B, B);
        expect(Buffer.from(model.gradientBlock().slice().buffer).equals(Buffer.from(alone.gradientBlock().slice().buffer)), `batch at ${start} on ${size} threads`).toBe(true);
        expect(team.loss).toBe(loss);
        expect(team.correct).toBe(alone.correctInBatch(B));
      }
      expect(team.size.runs).toEqual([1, 2, 2]);
    } finally {
      await team.close();
    }
  });
});
