#!/usr/bin/env node
/** The `sluice` command line: one declaration, one module per command, one place that maps errors to exit codes. */
import { Command, CommanderError } from 'commander';
import { registerCodecServerCommand } from './commands/codec-server';
import { registerDemoCommand } from './commands/demo';
import { registerDevCommand } from './commands/dev';
import { registerEmulatorCommand } from './commands/emulator';
import { registerEstimateCommand } from './commands/estimate';
import { registerBudgetCommand } from './commands/budget';
import { registerEnqueueCommand } from './commands/enqueue';
import { registerIntakeCommands } from './commands/intake';
import { registerJobControlCommands } from './commands/job-control';
import { registerQueueCommands } from './commands/queue';
import { registerReportCommand } from './commands/report';
import { registerRunCommand } from './commands/run';
import { registerScheduleCommands } from './commands/schedule';
import { registerSetupCommand } from './commands/setup';
import { registerSlaCommand } from './commands/sla';
import { registerWorkerCommand } from './commands/worker';
import { ExitCode, reportError } from './errors';
import { forTerminal } from './terminal-text';

export function buildProgram(): Command {
  const program = new Command()
    .name('sluice')
    .description('Run large Claude jobs through the Message Batches API as durable Temporal workflows')
    .showHelpAfterError()
    .exitOverride()
    // Commander repeats what was typed; a pasted escape sequence must not reach the terminal raw.
    .configureOutput({ writeErr: (text) => process.stderr.write(forTerminal(text)) });
  registerRunCommand(program);
  registerEstimateCommand(program);
  registerBudgetCommand(program);
  registerJobControlCommands(program);
  registerReportCommand(program);
  registerQueueCommands(program);
  registerIntakeCommands(program);
  registerEnqueueCommand(program);
  registerSlaCommand(program);
  registerScheduleCommands(program);
  registerDevCommand(program);
  registerDemoCommand(program);
  registerSetupCommand(program);
  registerWorkerCommand(program);
  registerEmulatorCommand(program);
  registerCodecServerCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    // A command that ran another process (the worker with its own heap limit) leaves that process's exit code.
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? ExitCode.ok : ExitCode.badInput;
    return reportError(err);
  }
}

if (require.main === module) {
  void main(process.argv).then((code) => {
    process.exitCode = code;
    // Calls still retrying inside the Temporal client (a query raced against a timeout, a result asked for across
    // a server restart) must not keep the process, or crash it on the closed channel: everything has been said.
    // Long-running commands (dev, worker, emulator) only get here when they are done.
    process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  });
}
