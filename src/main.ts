import { ConfigError, loadConfig } from './config/config.schema.js';
import { createApp } from './app.factory.js';
import { createRootLogger } from './observability/logger.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createRootLogger(config.logLevel);
  try {
    const app = await createApp(config, logger);
    await app.listen(config.port, config.host);
    logger.info({ port: config.port, host: config.host, dataDir: config.dataDir }, 'analytics service listening');
  } catch (err) {
    logger.fatal({ err }, 'failed to start');
    process.exit(1);
  }
}

void main();
