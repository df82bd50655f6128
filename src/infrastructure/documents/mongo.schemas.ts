import { Schema } from 'mongoose';

/**
 * Mongoose schemas and indexes of every collection the documents port holds. Ids are strings
 * (UUIDs made by the app), as on NeDB, so documents move between the two unchanged.
 * Collections a feature has not described yet get a permissive schema (tests, new features).
 */
const common = { versionKey: false, strict: true, _id: false } as const;

export const MONGO_SCHEMAS: Record<string, Schema> = {
  accounts: new Schema(
    {
      _id: { type: String, required: true },
      name: { type: String, required: true, maxlength: 200 },
      createdAt: { type: String, required: true },
      settings: { allowedOrigins: { type: [String], default: undefined } },
    },
    common,
  ),
  clients: new Schema(
    {
      _id: { type: String, required: true },
      accountId: { type: String, required: true, index: true },
      type: { type: String, required: true, enum: ['write', 'read', 'admin'] },
      secretHash: { type: String, required: true, unique: true },
      createdAt: { type: String, required: true },
    },
    common,
  ),
};

MONGO_SCHEMAS.metrics = new Schema(
  {
    _id: { type: String, required: true },
    accountId: { type: String, required: true, index: true },
    name: { type: String, required: true },
    description: String,
    type: { type: String, required: true, enum: ['counter', 'gauge', 'histogram'] },
    unit: String,
    aggregation: { type: String, required: true },
    eventName: String,
    eventType: String,
    field: String,
    formula: String,
    series: Schema.Types.Mixed,
    filters: { type: [Schema.Types.Mixed], default: [] },
    dimensions: { type: [String], default: [] },
    buckets: { type: [Number], default: undefined },
    createdAt: { type: String, required: true },
    updatedAt: { type: String, required: true },
    version: { type: Number, required: true },
  },
  common,
);

export function genericSchema(): Schema {
  return new Schema({ _id: { type: String, required: true } }, { ...common, strict: false });
}
