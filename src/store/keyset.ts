/** Keyset pagination over several columns, each ascending or descending (for sorts chosen by the caller). */
import type { Knex } from 'knex';

export interface KeyColumn {
  column: string;
  order: 'asc' | 'desc';
}

/** Orders `q` by `keys` and, given the last row's values, keeps only rows after it in that order. */
export function applyKeyset(q: Knex.QueryBuilder, keys: KeyColumn[], after: (string | number)[] | null): Knex.QueryBuilder {
  q.orderBy(keys.map((k) => ({ column: k.column, order: k.order })));
  if (!after) return q;
  return q.andWhere((outer) => {
    keys.forEach((key, i) => {
      outer.orWhere((w) => {
        for (let j = 0; j < i; j++) w.andWhere(keys[j]!.column, after[j]!);
        w.andWhere(key.column, key.order === 'asc' ? '>' : '<', after[i]!);
      });
    });
  });
}
