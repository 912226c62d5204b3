// The object-store family: recordings and cached audio by key.

export interface ObjectStore {
  /** With ifAbsent, an existing object is kept and created is false (a conditional put). */
  put(
    key: string,
    body: Buffer,
    opts?: { contentType?: string; ifAbsent?: boolean },
  ): Promise<{ created: boolean }>;
  get(key: string): Promise<Buffer | undefined>;
  delete(key: string): Promise<void>;
}
