import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

/**
 * Fechatter's protobuf types, from fechatter.proto. The .proto is read at run time from the
 * package's source folder (it ships beside dist/, as the dashboard's page does), with field
 * names kept as written (snake_case): they are the names Fechatter's JSON form and its own
 * storage use.
 */
const PROTO_FILE = fileURLToPath(new URL('../../../../src/sources/fechatter/fechatter.proto', import.meta.url));

const root = new protobuf.Root();
root.loadSync(PROTO_FILE, { keepCase: true });
root.resolveAll();

export const AnalyticsEventType: protobuf.Type = root.lookupType('fechatter.v1.AnalyticsEvent');
export const BatchRecordEventsRequestType: protobuf.Type = root.lookupType('fechatter.v1.BatchRecordEventsRequest');
export const EventContextType: protobuf.Type = root.lookupType('fechatter.v1.EventContext');

/** The `event_type` oneof of AnalyticsEvent: its members are Fechatter's event names. */
const EVENT_TYPE_ONEOF = AnalyticsEventType.oneofs['event_type']!;

/** The 16 event names (`app_start`, `message_sent`, …), in field-number order. */
export const FECHATTER_EVENT_NAMES: readonly string[] = [...EVENT_TYPE_ONEOF.fieldsArray].sort((a, b) => a.id - b.id).map((f) => f.name);

/** Each event's family, the canonical eventType (app, user, chat, message, file, …). */
export const FECHATTER_EVENT_FAMILY: Readonly<Record<string, string>> = {
  app_start: 'app',
  app_exit: 'app',
  user_login: 'user',
  user_logout: 'user',
  user_register: 'user',
  chat_created: 'chat',
  message_sent: 'message',
  chat_joined: 'chat',
  chat_left: 'chat',
  navigation: 'navigation',
  file_uploaded: 'file',
  file_downloaded: 'file',
  search_performed: 'search',
  notification_received: 'notification',
  error_occurred: 'error',
  bot_response: 'bot',
};
