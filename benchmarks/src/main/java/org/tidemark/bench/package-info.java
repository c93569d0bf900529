/**
 * JMH benchmarks of Tidemark's hot paths, each against a baseline measured in the same run (the
 * ratio is what to read): {@code java -jar benchmarks/target/benchmarks.jar -l} lists them.
 */
package org.tidemark.bench;
