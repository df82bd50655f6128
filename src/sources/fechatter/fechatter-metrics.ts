import type { MetricDefinition } from '../../metrics/index.js';
import { FECHATTER_EVENT_NAMES } from './fechatter-proto.js';

/**
 * The questions Fechatter's README answered from its own tables, as saved custom metrics: daily
 * active users; messages per day by message type, with their total size; errors per day by
 * error type. Read with `interval=day` and `groupBy` (`type`, `error_type`).
 */
export const FECHATTER_METRICS: readonly MetricDefinition[] = [
  {
    name: 'Fechatter daily active users',
    description: 'Distinct users (user id, else client id) with any Fechatter event; read with interval=day',
    type: 'gauge',
    unit: 'users',
    aggregation: 'unique',
    field: 'users',
    filters: [{ field: 'eventName', op: 'in', value: [...FECHATTER_EVENT_NAMES] }],
  },
  {
    name: 'Fechatter messages',
    description: 'Messages sent; groupBy=type for each message type',
    type: 'counter',
    unit: 'messages',
    aggregation: 'count',
    eventName: 'message_sent',
    dimensions: ['type', 'chat_id'],
  },
  {
    name: 'Fechatter message bytes',
    description: 'Total size of the messages sent; groupBy=type for each message type',
    type: 'counter',
    unit: 'bytes',
    aggregation: 'sum',
    eventName: 'message_sent',
    field: 'size',
    dimensions: ['type', 'chat_id'],
  },
  {
    name: 'Fechatter errors',
    description: 'Errors reported by Fechatter clients; groupBy=error_type for each type',
    type: 'counter',
    unit: 'errors',
    aggregation: 'count',
    eventName: 'error_occurred',
    dimensions: ['error_type', 'error_code', 'app_version'],
  },
];
