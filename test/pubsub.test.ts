import { InProcessPubSub } from '../src/infrastructure/pubsub/in-process.pubsub.js';
import { RedisPubSub } from '../src/infrastructure/pubsub/redis.pubsub.js';
import { type AnyChannels, pubSubContract } from './support/pubsub.contract.js';
import { needs, REDIS_URL } from './support/services.js';

const ignore = () => undefined;
pubSubContract('in-process', async (onError = ignore) => new InProcessPubSub<AnyChannels>(onError), { shared: false });
pubSubContract(
  'Redis',
  (onError = ignore) => RedisPubSub.connect<AnyChannels>(REDIS_URL, onError, `test-${process.pid}:`),
  { shared: true },
  await needs('redis'),
);
