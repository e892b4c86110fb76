// A node never exits without saying why. Every way out that Arbiter takes on
// purpose says why first (a config error, a failed start-up, a signal); this
// catches the rest: Node exiting because nothing held the event loop open
// while start-up still waited (exit code 13, "unsettled top-level await"),
// or any other exit that nothing announced. It writes one line to stderr.

export interface ExitGuard {
  /** What the process is doing now, for the message ("starting", "running"). */
  stage: string
  /** The exit that follows was announced (its reason already written): stay quiet. */
  announced(): void
}

/** The line the guard writes for an exit nobody announced. */
export function unexplainedExitMessage(code: number, stage: string): string {
  const why =
    code === 13
      ? 'Node found nothing left to run while start-up was still waiting (an unsettled top-level await): a bug, please report it with the log above'
      : 'no error was reported: a bug, please report it with the log above'
  return `arbiter: exited with code ${code} while ${stage}: ${why}\n`
}

export function installExitGuard(stage: string, write: (line: string) => void = (line) => process.stderr.write(line)): ExitGuard {
  let quiet = false
  const guard: ExitGuard = {
    stage,
    announced: () => {
      quiet = true
    },
  }
  process.on('exit', (code) => {
    // Node's own handler for an unsettled top-level await runs first and only sets process.exitCode (to 13).
    const actual = typeof process.exitCode === 'number' ? process.exitCode : code
    // A clean exit after a stop that was asked for is announced; anything else here was not.
    if (!quiet) write(unexplainedExitMessage(actual, guard.stage))
  })
  return guard
}
