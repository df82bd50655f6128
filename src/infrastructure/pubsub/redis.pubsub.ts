import { Redis } from 'ioredis';
import type { Channel, MessageHandler, PubSub, PubSubChannels, Unsubscribe } from './pubsub.port.js';

type Handler = MessageHandler<unknown>;

/**
 * Pub/sub across replicas on Redis: one connection publishes, one subscribes (a subscribed
 * connection can do nothing else). Channels are prefixed so several deployments can share a
 * Redis. Delivery is at most once, like Redis pub/sub itself: use it for live fan-out and
 * cache invalidation, never for data that must arrive.
 */
export class RedisPubSub<M extends object = PubSubChannels> implements PubSub<M> {
  readonly kind = 'redis' as const;
  private readonly handlers = new Map<string, Set<Handler>>();
  private subscribing: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    private readonly prefix: string,
    private readonly onError: (err: unknown, channel: string) => void,
  ) {
    subscriber.on('message', (channel: string, payload: string) => this.deliver(channel, payload));
  }

  static async connect<M extends object = PubSubChannels>(
    url: string,
    onError: (err: unknown, channel: string) => void,
    prefix = 'analytics:',
  ): Promise<RedisPubSub<M>> {
    const options = { lazyConnect: true, maxRetriesPerRequest: 3 };
    const publisher = new Redis(url, options);
    const subscriber = new Redis(url, options);
    await Promise.all([publisher.connect(), subscriber.connect()]);
    return new RedisPubSub<M>(publisher, subscriber, prefix, onError);
  }

  async publish<C extends Channel<M>>(channel: C, message: M[C]): Promise<void> {
    await this.publisher.publish(this.prefix + channel, JSON.stringify(message));
  }

  subscribe<C extends Channel<M>>(channel: C, typed: MessageHandler<M[C]>): Unsubscribe {
    const handler = typed as Handler; // the map typed the channel's messages where this was called
    let set = this.handlers.get(channel);
    if (!set) {
      this.handlers.set(channel, (set = new Set()));
      const done = this.subscriber.subscribe(this.prefix + channel).catch((err: unknown) => this.onError(err, channel));
      this.subscribing = Promise.all([this.subscribing, done]);
    }
    set.add(handler);
    return () => {
      set.delete(handler);
      if (set.size === 0) {
        this.handlers.delete(channel);
        this.subscriber.unsubscribe(this.prefix + channel).catch((err: unknown) => this.onError(err, channel));
      }
    };
  }

  /** Resolves once every channel subscribed so far is active on the server. */
  async ready(): Promise<void> {
    await this.subscribing;
  }

  async close(): Promise<void> {
    this.handlers.clear();
    await Promise.all([this.publisher.quit(), this.subscriber.quit()]).catch(() => undefined);
  }

  private deliver(prefixed: string, payload: string): void {
    const channel = prefixed.slice(this.prefix.length);
    const subscribers = this.handlers.get(channel);
    if (!subscribers) return;
    for (const handler of subscribers) {
      try {
        const result = handler(JSON.parse(payload));
        if (result instanceof Promise) result.catch((err) => this.onError(err, channel));
      } catch (err) {
        this.onError(err, channel);
      }
    }
  }
}
