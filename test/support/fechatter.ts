import { AnalyticsEventType, BatchRecordEventsRequestType } from '../../src/sources/fechatter/fechatter-proto.js';

/**
 * One event of each of Fechatter's 16 types, as its clients fill them (protobufjs plain
 * objects, field names as in the .proto), and what each must become as properties.
 */
export const EVENT_SAMPLES: Record<string, { fields: Record<string, unknown>; properties: Record<string, unknown>; family: string }> = {
  app_start: { fields: {}, properties: {}, family: 'app' },
  app_exit: { fields: { exit_code: 3 }, properties: { exit_code: 'EXIT_CODE_CRASH' }, family: 'app' },
  user_login: { fields: { email: 'ada@example.com', login_method: 'password' }, properties: { email: 'ada@example.com', login_method: 'password' }, family: 'user' },
  user_logout: { fields: { email: 'ada@example.com' }, properties: { email: 'ada@example.com' }, family: 'user' },
  user_register: {
    fields: { email: 'bob@example.com', workspace_id: 'ws-1', registration_method: 'invite' },
    properties: { email: 'bob@example.com', workspace_id: 'ws-1', registration_method: 'invite' },
    family: 'user',
  },
  chat_created: { fields: { workspace_id: 'ws-1', chat_type: 'group', initial_members_count: 5 }, properties: { workspace_id: 'ws-1', chat_type: 'group', initial_members_count: 5 }, family: 'chat' },
  message_sent: {
    fields: { chat_id: 'chat-9', type: 'text', size: 150, total_files: 0, has_mentions: true, has_links: false },
    properties: { chat_id: 'chat-9', type: 'text', size: 150, total_files: 0, has_mentions: true, has_links: false },
    family: 'message',
  },
  chat_joined: { fields: { chat_id: 'chat-9', join_method: 'link' }, properties: { chat_id: 'chat-9', join_method: 'link' }, family: 'chat' },
  chat_left: { fields: { chat_id: 'chat-9', leave_reason: 'muted' }, properties: { chat_id: 'chat-9', leave_reason: 'muted' }, family: 'chat' },
  navigation: { fields: { from: '/chats', to: '/settings', duration_ms: 1200 }, properties: { from: '/chats', to: '/settings', duration_ms: 1200 }, family: 'navigation' },
  file_uploaded: {
    // 2^53 + 1: exact only as a string.
    fields: { file_type: 'video/mp4', file_size: '9007199254740993', upload_method: 'drag', upload_duration_ms: 5300 },
    properties: { file_type: 'video/mp4', file_size: '9007199254740993', upload_method: 'drag', upload_duration_ms: 5300 },
    family: 'file',
  },
  file_downloaded: {
    fields: { file_type: 'image/png', file_size: 3_000_000_000, download_duration_ms: 800 },
    properties: { file_type: 'image/png', file_size: 3_000_000_000, download_duration_ms: 800 },
    family: 'file',
  },
  search_performed: {
    fields: { search_type: 'messages', query_length: '12', results_count: 7, search_duration_ms: 35, has_filters: true },
    properties: { search_type: 'messages', query_length: '12', results_count: 7, search_duration_ms: 35, has_filters: true },
    family: 'search',
  },
  notification_received: {
    fields: { notification_type: 'mention', source: 'push', was_clicked: true },
    properties: { notification_type: 'mention', source: 'push', was_clicked: true },
    family: 'notification',
  },
  error_occurred: {
    fields: { error_type: 'NetworkError', error_code: 'E_TIMEOUT', error_message: 'timed out', stack_trace: 'at send()', context: 'upload' },
    properties: { error_type: 'NetworkError', error_code: 'E_TIMEOUT', error_message: 'timed out', stack_trace: 'at send()', context: 'upload' },
    family: 'error',
  },
  bot_response: {
    fields: { bot_id: 'bot-1', chat_id: 'chat-9', response_type: 'answer', response_time_ms: 950, tokens_used: 4000000000, success: true, error_message: '' },
    properties: { bot_id: 'bot-1', chat_id: 'chat-9', response_type: 'answer', response_time_ms: 950, tokens_used: 4000000000, success: true, error_message: '' },
    family: 'bot',
  },
};

export interface ContextInput {
  client_id?: string;
  session_id?: string;
  user_id?: string;
  app_version?: string;
  client_ts?: number;
  user_agent?: string;
  ip?: string;
  system?: Record<string, string>;
  geo?: Record<string, string>;
}

/** A protobuf AnalyticsEvent, encoded by protobufjs from the service's .proto. */
export function encodeEvent(name: string, context: ContextInput, fields: Record<string, unknown> = EVENT_SAMPLES[name]!.fields): Uint8Array {
  const message = AnalyticsEventType.fromObject({ context, [name]: fields });
  const problem = AnalyticsEventType.verify(message);
  if (problem) throw new Error(problem);
  return AnalyticsEventType.encode(message).finish();
}

export function encodeBatch(events: { name: string; context: ContextInput; fields?: Record<string, unknown> }[]): Uint8Array {
  const message = BatchRecordEventsRequestType.fromObject({
    events: events.map((e) => ({ context: e.context, [e.name]: e.fields ?? EVENT_SAMPLES[e.name]!.fields })),
  });
  return BatchRecordEventsRequestType.encode(message).finish();
}
