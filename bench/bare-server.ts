import Fastify from 'fastify';

/**
 * The baseline: bare Fastify answering the same POSTs without doing anything (no auth, no
 * validation, no log), so the ingest figures can be read as a ratio that survives a noisy machine.
 */
const app = Fastify({ bodyLimit: 6 * 1024 * 1024 });
app.post('/api/events', async (_req, reply) => reply.code(202).send({ eventId: '00000000-0000-0000-0000-000000000000' }));
app.post('/api/events/batch', async (_req, reply) => reply.code(202).send({ accepted: 100, duplicates: 0, rejected: [] }));
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.stdout.write('ready\n');
