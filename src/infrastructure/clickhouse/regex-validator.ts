import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { EVENTS_STORE, type EventsStore, EventsStoreError } from './events-store.port.js';

/** ClickHouse's error code for a regular expression RE2 cannot compile. */
export const CANNOT_COMPILE_REGEXP = 427;

/** A pattern a request carries, and the path of the field that holds it (`filters[0].value`). */
export interface RegexCandidate {
  field: string;
  pattern: string;
}

/** Why a pattern was refused, for the client: the field's path and a short message. */
export interface RegexProblem {
  field: string;
  message: string;
}

const MAX_REASON = 80;

/**
 * The invalid patterns one request is told about: finding each costs a few queries (halving), so
 * a request full of invalid ones stops there; its other patterns stay unchecked (it fails anyway).
 */
export const MAX_REGEX_PROBLEMS = 10;

/**
 * The reason text of the engine's message about a regex it cannot compile, and nothing else:
 * ClickHouse says `Code: 427. DB::Exception: OptimizedRegularExpression: cannot compile re2:
 * <pattern>, error: <reason>: <fragment>. Look at … (CANNOT_COMPILE_REGEXP) (version …)`, and only
 * `<reason>` (one of RE2's fixed texts, such as "missing ]") may reach a client. Null when the
 * message does not have that form.
 */
export function re2Reason(engineMessage: string): string | null {
  const match = /, error: (.+?)(?:: |\. Look at|$)/s.exec(engineMessage);
  if (!match) return null;
  const reason = match[1]!.trim();
  // RE2's reasons are a few plain words ("invalid repetition size", "trailing \"); anything else
  // is not one of them and might carry the query or a stack.
  if (reason.length === 0 || reason.length > MAX_REASON || !/^[A-Za-z0-9 \-\]\)\\]+$/.test(reason)) return null;
  return reason;
}

/** The client's message for an invalid pattern. */
export function invalidRegexMessage(reason: string | null): string {
  return `is not a valid regular expression (RE2 syntax)${reason ? `: ${reason}` : ''}`;
}

type Verdict = { valid: true } | { valid: false; reason: string | null };

/**
 * Checks regular expressions with the engine that will run them: the events store compiles them
 * with RE2 (`match`), so a pattern is valid exactly when the store accepts it. Verdicts are
 * cached, so a pattern already seen costs no query; the patterns of one request are compiled in
 * one query, and split in halves only when that query fails, to find which ones are invalid (at
 * most MAX_REGEX_PROBLEMS of them).
 */
@Injectable()
export class RegexValidator {
  private readonly verdicts = new LRUCache<string, Verdict>({
    max: 10_000,
    maxSize: 4 * 1024 * 1024,
    sizeCalculation: (_v, pattern) => pattern.length + 32,
  });

  constructor(@Inject(EVENTS_STORE) private readonly store: EventsStore) {}

  /** The candidates whose pattern RE2 cannot compile, each with its field and the reason (the first MAX_REGEX_PROBLEMS). */
  async problems(candidates: readonly RegexCandidate[]): Promise<RegexProblem[]> {
    if (candidates.length === 0) return [];
    const known = new Map<string, Verdict>();
    const unknown = new Set<string>();
    for (const { pattern } of candidates) {
      if (known.has(pattern)) continue;
      const cached = this.verdicts.get(pattern);
      if (cached) known.set(pattern, cached);
      else unknown.add(pattern);
    }
    if (unknown.size > 0) {
      const patterns = [...unknown];
      const failure = await this.compile(patterns);
      if (failure === undefined) this.record(patterns, { valid: true }, known);
      else await this.bisect(patterns, failure, known);
    }
    const problems = candidates.flatMap(({ field, pattern }) => {
      const verdict = known.get(pattern);
      return !verdict || verdict.valid ? [] : [{ field, message: invalidRegexMessage(verdict.reason) }];
    });
    return problems.slice(0, MAX_REGEX_PROBLEMS);
  }

  /**
   * Finds the invalid patterns among some of which one is: `failure` is the reason of the first
   * invalid one (the engine compiles them in order and stops at the first it cannot compile).
   */
  private async bisect(patterns: string[], failure: string | null, out: Map<string, Verdict>): Promise<void> {
    if (patterns.length === 1) return this.record(patterns, { valid: false, reason: failure }, out);
    if (invalidCount(out) >= MAX_REGEX_PROBLEMS) return;
    const half = Math.ceil(patterns.length / 2);
    const [left, right] = [patterns.slice(0, half), patterns.slice(half)];
    const leftFailure = await this.compile(left);
    if (leftFailure === undefined) {
      this.record(left, { valid: true }, out);
      return this.bisect(right, failure, out);
    }
    await this.bisect(left, leftFailure, out);
    if (invalidCount(out) >= MAX_REGEX_PROBLEMS) return;
    const rightFailure = await this.compile(right);
    if (rightFailure === undefined) this.record(right, { valid: true }, out);
    else await this.bisect(right, rightFailure, out);
  }

  /** Undefined when the engine compiles every pattern, else the reason it gave (null if unclear). */
  private async compile(patterns: string[]): Promise<string | null | undefined> {
    try {
      // Each element is compiled as `match(column, {p:String})` compiles it (same RE2 options);
      // the result itself is not needed.
      await this.store.query("SELECT arrayMap(p -> match('', p), {patterns:Array(String)}) AS compiled", { patterns });
      return undefined;
    } catch (err) {
      if (err instanceof EventsStoreError && err.clickhouseCode === CANNOT_COMPILE_REGEXP) return re2Reason(err.message);
      throw err;
    }
  }

  private record(patterns: string[], verdict: Verdict, out: Map<string, Verdict>): void {
    for (const p of patterns) {
      out.set(p, verdict);
      this.verdicts.set(p, verdict);
    }
  }
}

const invalidCount = (verdicts: Map<string, Verdict>): number => {
  let n = 0;
  for (const v of verdicts.values()) if (!v.valid) n++;
  return n;
};
