/** What a profile says about a person: identify's fields and the merged properties. */
export interface ProfileState {
  firstName?: string;
  lastName?: string;
  email?: string;
  avatar?: string;
  properties: Record<string, unknown>;
}

/** A stored identify / increment / decrement event, as the track API wrote it. */
export interface ProfileOperation {
  type: string;
  properties: Record<string, unknown>;
}

const FIELDS = ['firstName', 'lastName', 'email', 'avatar'] as const;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const UNSAFE = new Set(['__proto__', 'prototype', 'constructor']);

/** Adds `delta` to the number at a dotted path (a missing or non-numeric value counts as 0). */
function add(target: Record<string, unknown>, path: string, delta: number): void {
  const keys = path.split('.');
  if (keys.some((k) => k === '' || UNSAFE.has(k))) return;
  let node = target;
  for (const k of keys.slice(0, -1)) {
    if (!isObject(node[k])) node[k] = {};
    node = node[k] as Record<string, unknown>;
  }
  const last = keys.at(-1)!;
  const current = typeof node[last] === 'number' ? (node[last] as number) : 0;
  node[last] = current + delta;
}

/**
 * Applies a profile's operations in stored order: identify sets its fields and properties (the
 * last write wins per key), increment / decrement change a number at a dotted path.
 */
export function foldProfile(operations: ProfileOperation[]): ProfileState {
  const state: ProfileState = { properties: {} };
  for (const op of operations) {
    const p = op.properties;
    if (op.type === 'identify') {
      const fields = isObject(p.profile) ? p.profile : {};
      for (const f of FIELDS) if (typeof fields[f] === 'string') state[f] = fields[f] as string;
      if (isObject(p.properties)) {
        for (const [k, v] of Object.entries(p.properties)) if (!UNSAFE.has(k)) state.properties[k] = v;
      }
    } else if ((op.type === 'increment' || op.type === 'decrement') && typeof p.property === 'string' && typeof p.value === 'number') {
      add(state.properties, p.property, op.type === 'increment' ? p.value : -p.value);
    }
  }
  return state;
}

/** The ids linked by alias events into one person: every id maps to its whole group. */
export function aliasGroups(links: [string, string][]): Map<string, string[]> {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let root = x;
    while (parent.has(root) && parent.get(root) !== root) root = parent.get(root)!;
    parent.set(x, root);
    return root;
  };
  for (const [a, b] of links) {
    if (!parent.has(a)) parent.set(a, a);
    if (!parent.has(b)) parent.set(b, b);
    const [ra, rb] = [find(a), find(b)];
    if (ra !== rb) parent.set(ra, rb);
  }
  const groups = new Map<string, string[]>();
  for (const id of parent.keys()) {
    const root = find(id);
    groups.set(root, [...(groups.get(root) ?? []), id]);
  }
  const byId = new Map<string, string[]>();
  for (const ids of groups.values()) {
    ids.sort();
    for (const id of ids) byId.set(id, ids);
  }
  return byId;
}
