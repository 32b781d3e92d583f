/**
 * The rooms of one connection (room id → RoomSync). Most connections follow one room, and even a
 * one-entry Map costs ~290 B (its hash table); this keeps a single entry inline and becomes a Map
 * from the second entry on. The part of Map's interface the node uses, with the same (insertion)
 * order; iterating while one entry is inline walks a copy.
 */
export class RoomMap<V> {
  private key: string | undefined = undefined;
  private value: V | undefined = undefined;
  private map: Map<string, V> | undefined = undefined;

  get size(): number {
    return this.map ? this.map.size : this.key === undefined ? 0 : 1;
  }

  get(key: string): V | undefined {
    if (this.map) return this.map.get(key);
    return key === this.key ? this.value : undefined;
  }

  has(key: string): boolean {
    return this.map ? this.map.has(key) : key === this.key;
  }

  set(key: string, value: V): this {
    if (this.map) {
      this.map.set(key, value);
    } else if (this.key === undefined || this.key === key) {
      this.key = key;
      this.value = value;
    } else {
      this.map = new Map([[this.key, this.value as V], [key, value]]);
      this.key = undefined;
      this.value = undefined;
    }
    return this;
  }

  delete(key: string): boolean {
    if (this.map) return this.map.delete(key);
    if (this.key === undefined || key !== this.key) return false;
    this.key = undefined;
    this.value = undefined;
    return true;
  }

  keys(): IterableIterator<string> {
    if (this.map) return this.map.keys();
    return (this.key === undefined ? [] : [this.key]).values();
  }

  entries(): IterableIterator<[string, V]> {
    if (this.map) return this.map.entries();
    return (this.key === undefined ? [] : [[this.key, this.value as V] as [string, V]]).values();
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries();
  }
}
