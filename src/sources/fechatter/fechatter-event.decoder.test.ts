import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { batchFromJson, decodeBatchBytes, decodeEventBytes, eventFromJson, toEventInput } from './fechatter-event.decoder.js';
import { AnalyticsEventType, BatchRecordEventsRequestType, FECHATTER_EVENT_NAMES } from './fechatter-proto.js';

const encode = (o: Record<string, unknown>) => AnalyticsEventType.encode(AnalyticsEventType.fromObject(o)).finish();

describe('Fechatter event decoder', () => {
  it('knows the 16 event types of the spec, by field number', () => {
    assert.equal(FECHATTER_EVENT_NAMES.length, 16);
    assert.equal(AnalyticsEventType.fields['app_start']!.id, 10);
    assert.equal(AnalyticsEventType.fields['bot_response']!.id, 25);
    assert.equal(AnalyticsEventType.fields['context']!.id, 1);
  });

  it('decodes a protobuf event with defaults, enums by name and 64-bit integers exactly', () => {
    const bytes = encode({ context: { client_id: 'c', client_ts: '1700000000000' }, app_exit: { exit_code: 2 } });
    const r = decodeEventBytes(bytes);
    assert.ok(r.ok);
    assert.equal(r.value.name, 'app_exit');
    assert.deepEqual(r.value.fields, { exit_code: 'EXIT_CODE_ERROR' });
    const big = decodeEventBytes(encode({ file_downloaded: { file_size: '18446744073709551' } }));
    assert.ok(big.ok);
    const input = toEventInput(big.value, { receivedAt: 1_700_000_000_000, sessionId: undefined, eventId: undefined });
    assert.equal(input.properties!.file_size, '18446744073709551', 'beyond 2^53: a decimal string');
    assert.equal(input.eventType, 'file');
    assert.equal(input.timestamp, 1_700_000_000_000, 'no client timestamp: the server time');
  });

  it('maps the context: client → anonymousId, user, app version, system, place; the event’s own (empty) user agent', () => {
    const r = decodeEventBytes(
      encode({
        context: { client_id: 'dev-1', user_id: '7', app_version: '2.0', client_ts: 5, user_agent: '', ip: '192.0.2.1', system: { os: 'Linux', locale: 'fr-FR' }, geo: { country: 'FR' } },
        user_login: { email: 'a@b.c' },
      }),
    );
    assert.ok(r.ok);
    const e = toEventInput(r.value, { receivedAt: 10, sessionId: 's', eventId: undefined });
    assert.deepEqual(e, {
      eventType: 'user',
      eventName: 'user_login',
      timestamp: 5,
      sessionId: 's',
      userId: '7',
      anonymousId: 'dev-1',
      properties: { email: 'a@b.c', login_method: '', app_version: '2.0', system: { os: 'Linux', locale: 'fr-FR' } },
      context: { ip: '192.0.2.1', userAgent: '', locale: 'fr-FR', geo: { country: 'FR' } },
    });
    const viaHeaders = toEventInput(r.value, { receivedAt: 10, sessionId: undefined, eventId: undefined, ip: '203.0.113.1', geo: { country: 'DE' } });
    assert.deepEqual([viaHeaders.context!.ip, viaHeaders.context!.geo], ['203.0.113.1', { country: 'DE' }]);
  });

  it('says why bytes are not an event', () => {
    const good = encode({ message_sent: { chat_id: 'c', size: 3 } });
    const truncated = decodeEventBytes(good.subarray(0, good.length - 1));
    assert.ok(!truncated.ok);
    assert.match(truncated.errors[0]!.message, /truncated/);
    const none = decodeEventBytes(new Uint8Array());
    assert.ok(!none.ok);
    assert.equal(none.errors[0]!.field, 'event_type');
    const batch = decodeBatchBytes(new Uint8Array([0x0a, 0x10, 0x01]));
    assert.ok(!batch.ok);
    assert.match(batch.errors[0]!.message, /BatchRecordEventsRequest/);
  });

  it('decodes a batch event by event, and the same event as JSON to the same bytes', () => {
    const message = { context: { client_id: 'x', client_ts: '123' }, search_performed: { query_length: '4', results_count: 2 } };
    const batch = BatchRecordEventsRequestType.encode(BatchRecordEventsRequestType.fromObject({ events: [message, { context: { client_id: 'y' } }] })).finish();
    const r = decodeBatchBytes(batch);
    assert.ok(r.ok);
    assert.equal(r.items.length, 2);
    assert.ok(r.items[0]!.ok);
    assert.ok(!r.items[1]!.ok);
    assert.equal(r.items[1]!.errors[0]!.field, 'events[1].event_type');
    const json = eventFromJson({ context: message.context, event_type: { search_performed: message.search_performed } });
    assert.ok(json.ok && r.items[0]!.ok);
    assert.deepEqual(Buffer.from(json.value.encoded), Buffer.from(r.items[0].value.encoded));
    // protobuf's canonical JSON form (the member at the top level) is the same event too
    const flat = eventFromJson(message);
    assert.ok(flat.ok);
    assert.deepEqual(Buffer.from(flat.value.encoded), Buffer.from(json.value.encoded));
  });

  it('names each bad JSON field', () => {
    const r = eventFromJson({ context: { client_ts: 'soon', system: { os: 1 } }, event_type: { bot_response: { tokens_used: -1, success: 'yes' } }, extra: 1 });
    assert.ok(!r.ok);
    assert.deepEqual(
      r.errors.map((e) => e.field),
      ['extra', 'context.client_ts', 'context.system.os', 'event_type.bot_response.tokens_used', 'event_type.bot_response.success'],
    );
    const two = eventFromJson({ event_type: { app_start: {}, app_exit: {} } });
    assert.ok(!two.ok);
    assert.match(two.errors[0]!.message, /exactly one event/);
    const notBatch = batchFromJson({ event: [] });
    assert.ok(!notBatch.ok);
    assert.equal(notBatch.errors[0]!.field, 'events');
  });
});
