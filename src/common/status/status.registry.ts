import { Global, Injectable, Module } from '@nestjs/common';

/**
 * Figures that background parts of a feature (a stream consumer) show on /ready, without the
 * health endpoint knowing the feature: each registers a name and a snapshot function.
 */
@Injectable()
export class StatusRegistry {
  private readonly sections = new Map<string, () => unknown>();

  register(name: string, snapshot: () => unknown): void {
    this.sections.set(name, snapshot);
  }

  snapshot(): Record<string, unknown> {
    return Object.fromEntries([...this.sections].map(([name, take]) => [name, take()]));
  }
}

@Global()
@Module({ providers: [StatusRegistry], exports: [StatusRegistry] })
export class StatusModule {}
