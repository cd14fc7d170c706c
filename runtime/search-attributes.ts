/**
 * Registers the task search attributes in the namespace if they are missing, so any deployment
 * (dev server with an old db file, a real cluster, docker compose) gets them from the worker itself.
 */
import { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { SEARCH_ATTRIBUTE_NAMES } from '../domain/search-attributes.js';

export async function ensureSearchAttributes(address: string, namespace: string, timeoutMs = 60_000): Promise<string[]> {
  // A server that just opened its port may not serve the namespace yet: retry until it does.
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await addMissing(address, namespace);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

async function addMissing(address: string, namespace: string): Promise<string[]> {
  const connection = await Connection.connect({ address });
  try {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    const missing = SEARCH_ATTRIBUTE_NAMES.filter((name) => !customAttributes || !(name in customAttributes));
    if (missing.length > 0) {
      const KEYWORD = proto.temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
      await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: Object.fromEntries(missing.map((n) => [n, KEYWORD])) });
    }
    return missing;
  } finally {
    await connection.close();
  }
}
