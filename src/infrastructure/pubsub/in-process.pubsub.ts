import type { Channel, MessageHandler, PubSub, PubSubChannels, Unsubscribe } from './pubsub.port.js';

type Handler = MessageHandler<unknown>;

/**
 * Pub/sub inside one process. Delivery is asynchronous (like Redis) and each subscriber gets
 * its own copy (a JSON round trip), so code written against it behaves the same on Redis.
 */
export class InProcessPubSub<M extends object = PubSubChannels> implements PubSub<M> {
  readonly kind = 'in-process' as const;
  private readonly handlers = new Map<string, Set<Handler>>();

  constructor(private readonly onError: (err: unknown, channel: string) => void) {}

  async publish<C extends Channel<M>>(channel: C, message: M[C]): Promise<void> {
    const subscribers = this.handlers.get(channel);
    if (!subscribers || subscribers.size === 0) return;
    const payload = JSON.stringify(message);
    for (const handler of subscribers) {
      setImmediate(() => {
        try {
          const result = handler(JSON.parse(payload));
          if (result instanceof Promise) result.catch((err) => this.onError(err, channel));
        } catch (err) {
          this.onError(err, channel);
        }
      });
    }
  }

  subscribe<C extends Channel<M>>(channel: C, typed: MessageHandler<M[C]>): Unsubscribe {
    const handler = typed as Handler; // the map typed the channel's messages where this was called
    let set = this.handlers.get(channel);
    if (!set) this.handlers.set(channel, (set = new Set()));
    set.add(handler);
    return () => set.delete(handler);
  }

  async ready(): Promise<void> {}

  async close(): Promise<void> {
    this.handlers.clear();
  }
}
