/** A small deterministic generator (a linear congruential one), so a failure can be reproduced. */
export function seededRandom(seed: number): () => number {
  let x = seed;
  return () => ((x = (x * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
}
