/**
 * Live fan-out between parts of the app (and, with Redis later, between replicas):
 * realtime dashboards, cache invalidation. Messages are JSON-serializable.
 */
export const PUBSUB = Symbol('PUBSUB');

export type Unsubscribe = () => void;

export interface PubSub {
  readonly kind: 'in-process' | 'redis';
  publish(channel: string, message: unknown): Promise<void>;
  subscribe(channel: string, handler: (message: unknown) => void | Promise<void>): Unsubscribe;
  /** Resolves once the subscriptions made so far receive messages. */
  ready(): Promise<void>;
  close(): Promise<void>;
}
