import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';
import { Controller, Get, type OnModuleInit, Param, Req, Res } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../common/api-error.js';

/**
 * The live dashboard page, `/dashboard`: static files of the package, no build step and no CDN.
 * The page itself is src/realtime/dashboard/ (read from the package root at run time: this file
 * is dist/src/realtime/), ECharts comes from the package's own `echarts` dependency, and the
 * chart spec → ECharts option code is the reports' own compiled modules (dist/src/reports/…),
 * served as browser ES modules, so the dashboard draws exactly what the reports draw.
 *
 * Only the files listed here are served (a lookup by name, so no path can reach anything
 * else); every answer carries a strict Content-Security-Policy. The page talks to the public
 * REST and WebSocket APIs only.
 */

const PAGE_DIR = new URL('../../../src/realtime/dashboard/', import.meta.url);
/** dist/src/: the compiled modules the page imports from /dashboard/lib/. */
const COMPILED_DIR = new URL('../', import.meta.url);
const require = createRequire(import.meta.url);

const CSP = [
  "default-src 'self'",
  "connect-src 'self' ws: wss:",
  "img-src 'self' data:",
  "style-src 'self'",
  "script-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  // The sign-in form is handled by the script: should it not run, the secret is never submitted.
  "form-action 'none'",
].join('; ');

const HTML = 'text/html; charset=utf-8';
const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';
/** The page's own files change with each release under the same names: revalidate (ETag). */
const REVALIDATE = 'no-cache';
/** ECharts changes only with the package: a day, then revalidate. */
const VENDOR = 'public, max-age=86400';

interface AssetSource {
  file: () => string;
  type: string;
  cacheControl: string;
}

const page = (name: string, type: string): AssetSource => ({
  file: () => fileURLToPath(new URL(name, PAGE_DIR)),
  type,
  cacheControl: REVALIDATE,
});
const compiled = (path: string): AssetSource => ({
  file: () => fileURLToPath(new URL(path, COMPILED_DIR)),
  type: JS,
  cacheControl: REVALIDATE,
});

/** Every file the page may load, by URL path under /dashboard/. */
const ASSETS: Record<string, AssetSource> = {
  '': page('index.html', HTML),
  'dashboard.js': page('dashboard.js', JS),
  'dashboard.css': page('dashboard.css', CSS),
  'vendor/echarts.js': { file: () => require.resolve('echarts/dist/echarts.esm.min'), type: JS, cacheControl: VENDOR },
  // chart-option.js and what it imports (format.js imports nothing; types are erased).
  'lib/reports/charts/chart-option.js': compiled('reports/charts/chart-option.js'),
  'lib/reports/charts/chart-font.js': compiled('reports/charts/chart-font.js'),
  'lib/reports/render/format.js': compiled('reports/render/format.js'),
};

interface LoadedAsset {
  body: Buffer;
  gzip: Buffer;
  br: Buffer;
  etag: string;
}

@Controller('dashboard')
export class DashboardController implements OnModuleInit {
  /** Files read (and compressed) once, on first request: they are part of the package. */
  private readonly loaded = new Map<string, Promise<LoadedAsset>>();

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  /** `/dashboard/` too: Nest drops a route's trailing slash, so that one goes to Fastify itself. */
  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.get('/dashboard/', (request, reply) => this.serve('', request, reply));
  }

  @Get()
  index(@Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.serve('', request, reply);
  }

  @Get(':file')
  file(@Param('file') file: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.serve(file, request, reply);
  }

  @Get('vendor/:file')
  vendor(@Param('file') file: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.serve(`vendor/${file}`, request, reply);
  }

  @Get('lib/reports/:folder/:file')
  lib(@Param('folder') folder: string, @Param('file') file: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply) {
    return this.serve(`lib/reports/${folder}/${file}`, request, reply);
  }

  private async serve(path: string, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const source = Object.hasOwn(ASSETS, path) ? ASSETS[path] : undefined;
    if (!source) throw ApiError.notFound('dashboard file');
    const asset = await this.load(path, source);
    void reply.headers({
      'content-type': source.type,
      'cache-control': source.cacheControl,
      etag: asset.etag,
      vary: 'accept-encoding',
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
    });
    if (request.headers['if-none-match'] === asset.etag) {
      void reply.status(304).send();
      return;
    }
    const accepted = String(request.headers['accept-encoding'] ?? '');
    if (/\bbr\b/.test(accepted)) {
      void reply.header('content-encoding', 'br').send(asset.br);
    } else if (/\bgzip\b/.test(accepted)) {
      void reply.header('content-encoding', 'gzip').send(asset.gzip);
    } else {
      void reply.send(asset.body);
    }
  }

  private load(path: string, source: AssetSource): Promise<LoadedAsset> {
    let loading = this.loaded.get(path);
    if (!loading) {
      loading = readFile(source.file()).then((body) => ({
        body,
        gzip: gzipSync(body),
        // Quality 5: ECharts (1.1 MB) compresses to ~330 KB in ~40 ms (11 takes seconds).
        br: brotliCompressSync(body, { params: { [zlib.BROTLI_PARAM_QUALITY]: 5 } }),
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
      }));
      // A failed read (a file missing from the image) is tried again on the next request.
      loading.catch(() => this.loaded.delete(path));
      this.loaded.set(path, loading);
    }
    return loading;
  }
}
