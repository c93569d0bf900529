package org.tidemark.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code tidemark checkpoint ...}: read, validate and format libvirt checkpoint XML. */
@Command(
    name = "checkpoint",
    mixinStandardHelpOptions = true,
    description = "Validate and format libvirt checkpoint XML (<domaincheckpoint>).",
    subcommands = {CommandLine.HelpCommand.class})
final class CheckpointCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(), "Missing a subcommand: see 'tidemark checkpoint --help'.");
  }
}
