import { Module } from '@nestjs/common';
import { DashboardController } from './dashboard.controller.js';

/** The live dashboard page at /dashboard (ROLE=all or api): static files, public routes. */
@Module({ controllers: [DashboardController] })
export class DashboardModule {}
