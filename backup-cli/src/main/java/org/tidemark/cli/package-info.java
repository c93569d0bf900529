/**
 * The {@code tidemark} command: a picocli command tree over the Tidemark library.
 *
 * <p>This package is the application, not an API: vendors import {@code checkpoint-xml} or
 * {@code backup-engine} instead. Its stable contract is the command line itself, the exit codes
 * listed in {@link org.tidemark.cli.ExitCodes} and the documented JSON output.
 */
package org.tidemark.cli;
