import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FastifyRequest } from 'fastify';
import { renderOpenPanelError } from './openpanel-error.shape.js';

const request = (origin?: string) => ({ headers: origin ? { origin } : {} }) as unknown as FastifyRequest;

describe('OpenPanel error shape', () => {
  it('renders {status, error, message, details} and lets the calling page read it', () => {
    const details = [{ field: 'payload.name', message: 'is required' }];
    const rendered = renderOpenPanelError(400, { code: 'validation_failed', message: 'payload.name: is required', details }, request('https://shop.example.com'));
    assert.equal(JSON.stringify(rendered.body), JSON.stringify({ status: 400, error: 'Bad Request', message: 'payload.name: is required', details }));
    assert.deepEqual(rendered.headers, { 'access-control-allow-origin': 'https://shop.example.com', vary: 'Origin' });
  });

  it('adds no CORS header without an origin, and names unlisted statuses Error', () => {
    const rendered = renderOpenPanelError(404, { code: 'not_found', message: 'x not found' }, request());
    assert.equal(JSON.stringify(rendered.body), '{"status":404,"error":"Error","message":"x not found"}');
    assert.equal(rendered.headers, undefined);
  });
});
