/**
 * How the engine runs, shared by backup, restore and verify: {@link
 * org.tidemark.engine.EngineOptions} (worker threads or the caller's {@link
 * java.util.concurrent.Executor}, direct I/O, the domain grammar), a {@link
 * org.tidemark.engine.Cancellation} token checked between chunks, and {@link
 * org.tidemark.engine.Progress}, told per disk how far an operation has come.
 */
package org.tidemark.engine;
