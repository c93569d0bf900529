package org.tidemark.store;

/** The store contract on an in-memory store built as an object store works (put-if-absent). */
class MemoryStoreTest extends ArchiveStoreContract {
  @Override
  protected ArchiveStore store() {
    return new MemoryStore();
  }
}
