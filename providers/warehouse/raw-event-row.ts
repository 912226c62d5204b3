// One event as a row of the raw events table: the same eight columns, in the same order,
// in DuckDB's and Snowflake's schema.
import type { AnyBusEvent } from '../../contracts/events';

export function rawEventRow(e: AnyBusEvent): (string | number)[] {
  return [
    e.id,
    e.type,
    e.call_id,
    e.workflow_id,
    e.seq,
    e.occurred_at,
    e.schema_version,
    JSON.stringify(e),
  ];
}
