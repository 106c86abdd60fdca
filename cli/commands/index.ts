import type { CommandModule } from 'yargs';

// One file per subcommand under cli/commands/; register each here, one line each.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [];
