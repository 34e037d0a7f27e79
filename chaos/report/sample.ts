// Caps the number of plotted operations so a long run's report stays small. Deterministic (no
// randomness: the same run gives the same report), keeps every fail and info point because those
// are the interesting ones, and thins the ok points evenly over the run.
export const POINTS_MAX = 5000;

export interface Sampled<T> {
  points: T[];
  total: number;
  capped: boolean;
}

export function samplePoints<T>(
  items: readonly T[],
  isOk: (item: T) => boolean,
  pointsMax = POINTS_MAX,
): Sampled<T> {
  if (items.length <= pointsMax) return { points: [...items], total: items.length, capped: false };
  const rare = items.filter((item) => !isOk(item));
  const ok = items.filter(isOk);
  if (rare.length >= pointsMax) return { points: evenly(rare, pointsMax), total: items.length, capped: true };
  const kept = new Set<T>([...rare, ...evenly(ok, pointsMax - rare.length)]);
  return { points: items.filter((item) => kept.has(item)), total: items.length, capped: true };
}

/** `count` items spread evenly over `items`, in order. */
function evenly<T>(items: readonly T[], count: number): T[] {
  const picked: T[] = [];
  for (let i = 0; i < count; i += 1) {
    const item = items[Math.floor((i * items.length) / count)];
    if (item !== undefined) picked.push(item);
  }
  return picked;
}
