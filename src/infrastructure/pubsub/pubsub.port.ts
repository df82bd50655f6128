/**
 * Live fan-out between parts of the app (and, with Redis later, between replicas):
 * realtime dashboards, cache invalidation. Messages are JSON-serializable.
 */
export const PUBSUB = Symbol('PUBSUB');

/**
 * Every channel's message type, by channel name: the one map the bus is typed by. A feature adds
 * its channels where it defines them, by augmenting this interface (no edit here):
 *
 * ```ts
 * export const LIVE_EVENTS_CHANNEL = 'live.events';
 * declare module '../infrastructure/pubsub/pubsub.port.js' {
 *   interface PubSubChannels {
 *     'live.events': LiveEventsMessage;
 *   }
 * }
 * ```
 *
 * `publish` and `subscribe` then check the channel and the message type at compile time.
 * Messages travel as JSON (each subscriber gets a parsed copy), so they are plain data: no Dates,
 * Maps or class instances.
 */
export interface PubSubChannels {}

/** A channel name of the map `M` (by default the app's). */
export type Channel<M extends object = PubSubChannels> = keyof M & string;

export type Unsubscribe = () => void;

export type MessageHandler<T> = (message: T) => void | Promise<void>;

/** The bus, typed by a channel map: the app's `PubSubChannels` by default (the contract tests use their own). */
export interface PubSub<M extends object = PubSubChannels> {
  readonly kind: 'in-process' | 'redis';
  publish<C extends Channel<M>>(channel: C, message: M[C]): Promise<void>;
  subscribe<C extends Channel<M>>(channel: C, handler: MessageHandler<M[C]>): Unsubscribe;
  /** Resolves once the subscriptions made so far receive messages. */
  ready(): Promise<void>;
  close(): Promise<void>;
}
