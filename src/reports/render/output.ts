/**
 * Where a renderer writes: a file path (created or truncated) or any Writable (an HTTP
 * response, an upload). The renderer ends the stream when the file is complete; `done` settles
 * when every byte is flushed, or rejects with the stream's error.
 */
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';

export type RenderTarget = string | Writable;

export interface OpenedTarget {
  stream: Writable;
  done: Promise<void>;
}

export function openTarget(target: RenderTarget): OpenedTarget {
  const stream = typeof target === 'string' ? createWriteStream(target) : target;
  const done = finished(stream);
  // `done` is awaited by the renderer at the end; keep an early failure from being unhandled meanwhile.
  done.catch(() => undefined);
  return { stream, done };
}

/** Waits until a stream has drained below its high-water mark (bounded memory for a slow target). */
export async function drained(stream: Writable): Promise<void> {
  if (!stream.writableNeedDrain || stream.destroyed) return;
  await new Promise<void>((resolve, reject) => {
    const onDrain = () => {
      stream.off('error', onError);
      resolve();
    };
    const onError = (error: Error) => {
      stream.off('drain', onDrain);
      reject(error);
    };
    stream.once('drain', onDrain);
    stream.once('error', onError);
  });
}
