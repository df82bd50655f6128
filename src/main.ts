import { createApp } from './app.factory.js';
import { ConfigError, loadConfig } from './config/config.schema.js';
import { environment } from './config/dotenv.js';
import { createRootLogger } from './observability/logger.js';

async function main(): Promise<void> {
  let config;
  let settings;
  try {
    settings = environment();
    config = loadConfig(settings.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${settings?.file ? `(with settings from ${settings.file})\n` : ''}${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createRootLogger(config.logLevel);
  if (settings.file) {
    logger.info({ file: settings.file, settings: settings.fromFile, overriddenByEnvironment: settings.overridden }, 'read settings from .env');
  }
  try {
    const app = await createApp(config, logger);
    await app.listen(config.port, config.host);
    logger.info({ port: config.port, host: config.host, dataDir: config.dataDir }, 'analytics service listening');
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down: draining the ingest log into the store');
      // Stops listening, flushes every acknowledged event, then closes the stores.
      app
        .close()
        .then(() => process.exit(0))
        .catch((err: unknown) => {
          logger.fatal({ err }, 'shutdown failed; unflushed events stay in the ingest log for the next start');
          process.exit(1);
        });
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  } catch (err) {
    logger.fatal({ err }, 'failed to start');
    process.exit(1);
  }
}

void main();
